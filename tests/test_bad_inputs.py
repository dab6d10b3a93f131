"""Bad input never crashes modlab and never touches a store. Property-based: random malformed
YAML/JSON specs and configs, garbage and truncated store files, SQLite databases of other programs.
Each must end the CLI with exit status 2 and one stderr line ``modlab: error: …`` naming the problem,
and leave an existing store byte-for-byte as it was."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from modlab import yaml12
from modlab.cli import main, printable
from modlab.experiments.linear_rf import LinearRFConfig
from modlab.store import Store
from modlab.sweep import SweepSpec, run_sweep

EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
GOOD_SPEC = {
    "experiment": "linear-rf",
    "name": "good",
    "base": {"m": 4, "p": 6},
    "axes": {"n": [8, 16], "seed": [0, 1]},
}
FIELDS = sorted(LinearRFConfig.model_fields)
POSITIVE_INT_FIELDS = ["n", "p", "m", "n_modules", "module_dim", "n_outputs"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder holding a good spec and a store that already has its runs."""
    folder = tmp_path_factory.mktemp("bad-inputs")
    (folder / "good.yaml").write_text(yaml.safe_dump(GOOD_SPEC))
    with Store.create(folder / "store.sqlite") as store:
        run_sweep(SweepSpec.model_validate(GOOD_SPEC), store, progress=False)
    return folder


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(*argv: str) -> tuple[int, str]:
    """``modlab ARGV`` in this process: exit status and stderr (stdout must stay empty)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert out.getvalue() == ""
    return code, err.getvalue()


def assert_one_line_error(code: int, err: str, *names: str) -> None:
    assert code == 2, err
    assert err.startswith("modlab: error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for name in names:
        assert name in err, f"{name!r} not named in: {err}"


def assert_refused_untouched(store: Path, argv: tuple[str, ...], *names: str) -> None:
    before = digest(store)
    assert_one_line_error(*run_cli(*argv), *names)
    assert digest(store) == before


# --- specs and configs -------------------------------------------------------------------------


def dump(data, as_json: bool) -> str:
    """The spec as a user would write it: JSON, or YAML that modlab's YAML 1.2 reader reads back as ``data``."""
    return json.dumps(data, ensure_ascii=False) if as_json else yaml12.dump(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def bad_int() -> st.SearchStrategy:
    """Values no positive-int field accepts."""
    return (
        st.integers(max_value=0)
        | st.floats().filter(lambda x: not (math.isfinite(x) and x == int(x)))
        | st.text(max_size=6).filter(lambda t: not t.strip().lstrip("+").isdigit())
        | st.lists(st.integers(), max_size=2)
        | st.none()
    )


@st.composite
def broken_fields(draw) -> tuple[dict, str]:
    """Config fields of a good run with one defect, and the quoted field name the error must hold."""
    fields = {"m": 4, "p": 6, "n": 8}
    defect = draw(st.sampled_from(["unknown", "bad_int", "bad_noise"]))
    if defect == "unknown":
        key = draw(st.from_regex(r"[a-z_]{1,10}", fullmatch=True).filter(lambda k: k not in FIELDS))
        fields[key] = draw(json_values)
        return fields, f"'{key}'"
    if defect == "bad_int":
        field = draw(st.sampled_from(POSITIVE_INT_FIELDS))
        fields[field] = draw(bad_int())
        return fields, f"'{field}'"
    fields["noise"] = draw(st.floats(max_value=-1e-9) | st.sampled_from([math.inf, math.nan, -math.inf]))
    return fields, "'noise'"


@st.composite
def broken_specs(draw) -> tuple[dict, str]:
    """A spec with one defect (in its own keys or in a config field), and the words naming it."""
    spec = json.loads(json.dumps(GOOD_SPEC))
    defect = draw(st.sampled_from(["field", "unknown_top", "bad_axis", "empty_axis", "experiment"]))
    if defect == "field":
        spec["base"], name = draw(broken_fields())
        spec["axes"] = {"seed": [0, 1]}
        return spec, name
    if defect == "unknown_top":
        key = draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in SweepSpec.model_fields))
        spec[key] = draw(json_values)
        return spec, f"'{key}'"
    if defect == "bad_axis":
        spec["axes"]["n"] = draw(st.lists(bad_int(), min_size=1, max_size=3))
        return spec, "'n'"
    if defect == "empty_axis":
        spec["axes"]["seed"] = []
        return spec, "'seed'"
    spec["experiment"] = draw(st.text(max_size=10).filter(lambda t: t != "linear-rf"))
    return spec, "unknown experiment"


@EXAMPLES
@given(data=st.text(max_size=60).map(str.encode) | st.binary(max_size=60))
def test_garbage_spec_file_is_refused(workdir, data):
    try:
        parsed = yaml.safe_load(data)
    except yaml.YAMLError:
        parsed = None
    assume(not (isinstance(parsed, dict) and parsed.get("experiment") == "linear-rf"))
    spec = workdir / "garbage-spec.yaml"
    spec.write_bytes(data)
    assert_refused_untouched(
        workdir / "store.sqlite", ("sweep", str(spec), "--store", str(workdir / "store.sqlite")), str(spec)
    )


@EXAMPLES
@given(case=broken_specs(), as_json=st.booleans(), command=st.sampled_from(["sweep", "results"]))
def test_malformed_spec_is_refused_naming_the_field(workdir, case, as_json, command):
    data, name = case
    spec = workdir / ("broken.json" if as_json else "broken.yaml")
    spec.write_text(dump(data, as_json))
    store = workdir / "store.sqlite"
    assert_refused_untouched(store, (command, str(spec), "--store", str(store)), printable(name))


@EXAMPLES
@given(case=broken_fields(), as_json=st.booleans())
def test_malformed_run_config_is_refused_naming_the_field(workdir, case, as_json):
    fields, name = case
    config = workdir / ("config.json" if as_json else "config.yaml")
    config.write_text(dump(fields, as_json))
    store = workdir / "store.sqlite"
    assert_refused_untouched(store, ("run", "linear-rf", "--config", str(config), "--store", str(store)), name)


# --- store files -------------------------------------------------------------------------------


@EXAMPLES
@given(junk=st.binary(min_size=1, max_size=4096), keep_header=st.booleans())
def test_garbage_store_file_is_refused_and_untouched(workdir, junk, keep_header):
    store = workdir / "garbage.sqlite"
    store.write_bytes((b"SQLite format 3\x00" if keep_header else b"") + junk)
    for command in ("sweep", "results"):
        assert_refused_untouched(store, (command, str(workdir / "good.yaml"), "--store", str(store)), str(store))


@EXAMPLES
@given(fraction=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_truncated_store_is_refused_and_untouched(workdir, fraction):
    whole = (workdir / "store.sqlite").read_bytes()
    store = workdir / "truncated.sqlite"
    store.write_bytes(whole[: max(1, int(len(whole) * fraction))])
    for command in ("sweep", "results"):
        assert_refused_untouched(store, (command, str(workdir / "good.yaml"), "--store", str(store)), str(store))


identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda name: not name.startswith("sqlite"))


@EXAMPLES
@given(
    tables=st.dictionaries(
        identifiers, st.lists(identifiers, min_size=1, max_size=3, unique=True), min_size=1, max_size=3
    ),
    rows=st.integers(0, 3),
    journal=st.sampled_from(["delete", "wal"]),
)
def test_sqlite_database_of_another_program_is_refused_and_untouched(workdir, tables, rows, journal):
    assume(not ("meta" in tables and {"key", "value"} <= set(tables["meta"])))
    store = workdir / "foreign.sqlite"
    for leftover in workdir.glob("foreign.sqlite*"):
        leftover.unlink()
    db = sqlite3.connect(store)
    db.execute(f"PRAGMA journal_mode = {journal}")
    for table, columns in tables.items():
        quoted = ", ".join(f'"{column}"' for column in columns)
        marks = ", ".join("?" * len(columns))
        db.execute(f'CREATE TABLE "{table}" ({quoted})')
        db.executemany(f'INSERT INTO "{table}" VALUES ({marks})', [[i] * len(columns) for i in range(rows)])
    db.commit()
    db.close()
    for command in ("sweep", "results"):
        assert_refused_untouched(store, (command, str(workdir / "good.yaml"), "--store", str(store)), str(store))


@pytest.mark.parametrize(
    ("meta", "named"),
    [({"app": "other", "schema": "1"}, "no modlab metadata"), ({"app": "modlab", "schema": "99"}, "schema 99")],
)
def test_store_with_foreign_or_future_metadata_is_refused_and_untouched(tmp_path, workdir, meta, named):
    store = tmp_path / "meta.sqlite"
    db = sqlite3.connect(store)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    db.commit()
    db.close()
    assert_refused_untouched(store, ("sweep", str(workdir / "good.yaml"), "--store", str(store)), named)


def test_store_path_that_cannot_be_created_is_one_line(tmp_path, workdir):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_one_line_error(
        *run_cli("sweep", str(workdir / "good.yaml"), "--store", str(blocker / "store.sqlite")), "cannot create"
    )


def test_the_installed_command_prints_one_line_and_no_traceback(tmp_path, workdir):
    """The same, through a real ``modlab`` process, for one spec, one store and one config case."""
    garbage_store = tmp_path / "garbage.sqlite"
    garbage_store.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    bad_spec = tmp_path / "bad.yaml"
    bad_spec.write_text("experiment: linear-rf\naxes: {n: [0]}\n")
    cases = [
        (["sweep", str(bad_spec), "--store", str(workdir / "store.sqlite")], "field 'n' = 0"),
        (["results", str(workdir / "good.yaml"), "--store", str(garbage_store)], str(garbage_store)),
        (["run", "linear-rf", "--set", "noise=.inf", "--store", str(workdir / "store.sqlite")], "field 'noise' = inf"),
    ]
    before = digest(workdir / "store.sqlite")
    for argv, name in cases:
        proc = subprocess.run([sys.executable, "-m", "modlab.cli", *argv], capture_output=True, text=True, timeout=120)
        assert_one_line_error(proc.returncode, proc.stderr, name)
        assert proc.stdout == ""
    assert digest(workdir / "store.sqlite") == before


# --- paths, backends and read commands ---------------------------------------------------------


def test_path_errors_are_one_line(tmp_path, workdir):
    long_name = "x" * 300
    assert_one_line_error(*run_cli("sweep", str(tmp_path / long_name / "s.yaml")), "too long")
    assert_one_line_error(
        *run_cli("sweep", str(workdir / "good.yaml"), "--store", str(tmp_path / long_name / "s.sqlite")), "too long"
    )
    assert_one_line_error(
        *run_cli("run", "linear-rf", "--set", "n=8", "--store", str(tmp_path / f"{long_name}.sqlite")), "too long"
    )


@pytest.mark.skipif(__import__("os").geteuid() != 0, reason="needs root to mount a read-only tmpfs")
def test_figure_out_on_a_read_only_folder_is_one_line_before_computing(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(folder)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        assert_one_line_error(*run_cli("figure", "a-theory", "--out", str(folder), "--no-progress"), "not writable")
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize(
    ("address", "named"),
    [
        ("", "is empty"),
        ("10.0.0.5", "has no port"),
        (":6379", "no host"),
        ("10.0.0.5:abc", "port 'abc' is not a number"),
        ("10.0.0.5:70000", "outside 1–65535"),
        ("http://10.0.0.5:6379", "scheme 'http://'"),
        ("bad host:6379", "not a host name"),
    ],
)
def test_a_malformed_ray_address_is_refused_before_the_store_is_touched(tmp_path, workdir, address, named):
    store = tmp_path / "new.sqlite"
    argv = ("sweep", str(workdir / "good.yaml"), "--store", str(store), "--backend", "ray", "--ray-address", address)
    assert_one_line_error(*run_cli(*argv), named)
    assert not store.exists() and list(tmp_path.iterdir()) == []


def test_an_unreachable_ray_address_is_refused_before_the_store_is_touched(tmp_path, workdir):
    pytest.importorskip("ray", reason="ray is not installed (pip install 'modlab[ray]')")
    store = tmp_path / "new.sqlite"
    argv = (
        "sweep",
        str(workdir / "good.yaml"),
        "--store",
        str(store),
        "--backend",
        "ray",
        "--ray-address",
        "127.0.0.1:1",
    )
    assert_one_line_error(*run_cli(*argv), "cannot reach Ray at 127.0.0.1:1")
    assert not store.exists()


def test_a_store_linked_to_a_device_is_refused(tmp_path, workdir):
    link = tmp_path / "null.sqlite"
    link.symlink_to("/dev/null")
    for command in ("sweep", "results"):
        assert_one_line_error(*run_cli(command, str(workdir / "good.yaml"), "--store", str(link)), "not a regular file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null.sqlite"]
    assert not Path("/dev/null-journal").exists() and not Path("/dev/null-wal").exists()


@pytest.mark.parametrize("content", ["empty", "no-tables"])
def test_results_never_writes_into_a_file_that_is_not_a_store(tmp_path, workdir, content):
    store = tmp_path / "other.sqlite"
    if content == "empty":
        store.touch()
    else:
        sqlite3.connect(store).execute("PRAGMA user_version = 3").close()
    assert_refused_untouched(store, ("results", "--store", str(store)), str(store))
    assert_refused_untouched(store, ("sweep", str(workdir / "good.yaml"), "--store", str(store)), str(store))


def test_results_reads_an_immutable_store_without_writing(tmp_path, workdir):
    store = tmp_path / "kept.sqlite"
    store.write_bytes((workdir / "store.sqlite").read_bytes())
    if subprocess.run(["chattr", "+i", str(store)], capture_output=True).returncode:
        pytest.skip("cannot make a file immutable here")
    try:
        before = digest(store)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["results", str(workdir / "good.yaml"), "--store", str(store), "--format", "csv"]) == 0
        assert out.getvalue().count("\n") > 1
        assert digest(store) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.sqlite"]
    finally:
        subprocess.run(["chattr", "-i", str(store)], check=True)
