"""config.yaml, every preset merged over it, and the training keys checked by the JSON schema."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "schemas" / "config.schema.yaml")


def merged(*overlays):
    """config.yaml with `overlays` merged in as snakemake merges --configfile (nested dicts update)."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())

    def update(base, extra):
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                update(base[key], value)
            else:
                base[key] = copy.deepcopy(value)

    for overlay in overlays:
        update(config, overlay)
    return config


@pytest.mark.parametrize("preset", [None] + sorted(p.name for p in (ROOT / "presets").glob("*.yaml")))
def test_config_and_presets_validate(preset):
    overlay = yaml.safe_load((ROOT / "presets" / preset).read_text()) if preset else {}
    validate(merged(overlay), schema=SCHEMA)


def test_training_device_keys_are_accepted_and_typed():
    validate(merged({"training": {"device": "cuda", "data_on_device": True, "num_workers": 4}}), schema=SCHEMA)
    for bad in ({"data_on_device": "yes"}, {"device": 0}, {"num_workers": -1}, {"data_on_device_": True}):
        with pytest.raises(Exception, match="data_on_device|device|num_workers"):
            validate(merged({"training": bad}), schema=SCHEMA)
