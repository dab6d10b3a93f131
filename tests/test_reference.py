from pathlib import Path

from modlab import reference
from modlab.cli import main
from modlab.experiments import EXPERIMENTS

CONFIG_DOC = Path(__file__).parents[1] / "docs" / "config.md"


def test_docs_config_md_is_current():
    assert CONFIG_DOC.read_text() == reference.markdown(), "regenerate: python -m modlab.reference > docs/config.md"


def test_every_field_has_a_type_default_and_description():
    assert set(reference.builtin_experiments()) == {n for n in EXPERIMENTS if n != "probe"}  # conftest's
    for name in reference.builtin_experiments():
        for field in reference.fields_of(name):
            assert field.type and field.description, (name, field)


def test_config_command_prints_every_field_with_range_and_description(capsys):
    assert main(["config", "sine"]) == 0
    out = capsys.readouterr().out.splitlines()
    fields = reference.fields_of("sine")
    assert len(out) == 2 + len(fields)
    row = next(line for line in out if line.startswith("task.rho "))
    assert row.split()[:5] == ["task.rho", "float", "0.0", "≥", "0,"] and "correlation" in row
    assert next(line for line in out if line.startswith("train.lr ")).split()[:5] == [
        "train.lr",
        "float",
        "0.001",
        ">",
        "0",
    ]
    assert next(line for line in out if line.startswith("model.kind ")).split()[3:6] == [
        "monolithic,",
        "modular,",
        "moe",
    ]


def test_the_experiments_own_nested_defaults_are_shown():
    by_name = {f.name: f for f in reference.fields_of("compositional-cifar")}
    assert by_name["kernel_rule.kernel"].default == "module" and by_name["kernel_rule.steps"].default == 100


def test_config_of_an_unknown_experiment_suggests_the_closest(capsys):
    assert main(["config", "linear-fr"]) == 2
    assert "did you mean 'linear-rf'?" in capsys.readouterr().err
    assert main(["config"]) == 0
    assert "linear-modules" in capsys.readouterr().out
