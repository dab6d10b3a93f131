import subprocess
import sys

import modlab


def test_import_modlab_is_light_and_exposes_the_public_api_lazily():
    code = (
        "import sys, modlab; print('torch' in sys.modules, 'pandas' in sys.modules); "
        "modlab.run_sweep; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "True"]


def test_every_public_name_resolves_and_has_a_docstring():
    for name in modlab.__all__:
        value = getattr(modlab, name)
        assert name == "__version__" or (value.__doc__ or "").strip(), name
    assert modlab.Store.__module__ == "modlab.store" and modlab.theory.rf_losses is not None
    assert set(modlab.__all__) <= set(dir(modlab))
    try:
        _ = modlab.no_such_name
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("an unknown attribute must raise AttributeError")
