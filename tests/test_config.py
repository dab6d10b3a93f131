import pytest

from modlab.config import config_key, read_mapping_file
from modlab.errors import ConfigError
from modlab.experiments.linear_rf import LinearRFConfig


def test_yaml_and_json_round_trip():
    cfg = LinearRFConfig(n=321, p=17, spectrum={"family": "equal", "omega": 2.0})
    assert LinearRFConfig.from_yaml(cfg.to_yaml()) == cfg
    assert LinearRFConfig.from_json(cfg.to_json()) == cfg


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"n": 0}, "field 'n' = 0"),
        ({"n": "many"}, "field 'n' = 'many'"),
        ({"bogus": 1}, "unknown field 'bogus' (allowed: architecture"),
        (
            {"spectrum": {"omeg": 2}},
            "unknown field 'spectrum.omeg' (did you mean 'omega'? allowed: alpha, family, omega",
        ),
        ({"spectrum": {"omega": 0.5}}, "spectrum.omega = 0.5: must be > 1"),
        ({"m": 2, "module_dim": 3}, "module_dim = 3 exceeds the task dimension m = 2"),
        ({"architecture": "mlp"}, "field 'architecture' = 'mlp'"),
        ({"n": 100000, "p": 100000}, "design entries"),
    ],
)
def test_bad_config_is_one_line_naming_field_and_value(data, fragment):
    with pytest.raises(ConfigError) as err:
        LinearRFConfig.parse(data)
    message = str(err.value)
    assert fragment in message
    assert "\n" not in message


def test_parse_rejects_non_mapping():
    with pytest.raises(ConfigError, match="expected a mapping"):
        LinearRFConfig.parse([1, 2])


def test_config_key_is_canonical_and_sensitive():
    a = LinearRFConfig(n=10, p=5)
    assert config_key("linear-rf", a) == config_key("linear-rf", LinearRFConfig.parse({"p": 5, "n": 10}))
    assert config_key("linear-rf", a) != config_key("linear-rf", a.replace(seed=1))
    assert config_key("linear-rf", a) != config_key("other", a)


def test_read_mapping_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_mapping_file(tmp_path / "missing.yaml", "spec")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        read_mapping_file(bad, "spec")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        read_mapping_file(scalar, "spec")
