"""config.yaml, every preset merged over it, the schema's typed keys, and its name lists against the code."""

import math
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from emgcore.settings import RunningNormSettings, TrainingSettings, WindowSettings
from tests.helpers.settings import default_config, disentangle_config
from tests.helpers.workflow import REPO, merged

SCHEMA = str(REPO / "schemas" / "config.schema.yaml")


def config_with(*overlays):
    """A fresh copy of config.yaml with `overlays` merged in as Snakemake merges --configfile."""
    config = merged(default_config(), {})
    for overlay in overlays:
        config = merged(config, overlay)
    return config


@pytest.mark.parametrize("preset", [None] + sorted(p.name for p in (REPO / "presets").glob("*.yaml")))
def test_config_and_presets_validate_and_build_the_typed_settings(preset):
    overlay = yaml.safe_load((REPO / "presets" / preset).read_text()) if preset else {}
    config = config_with(overlay)
    validate(config, schema=SCHEMA)
    TrainingSettings.from_config(config["training"])
    WindowSettings.from_config(config["windows"])
    RunningNormSettings.from_config(config["running_norm"])


def test_training_device_keys_are_accepted_and_typed():
    validate(config_with({"training": {"device": "cuda", "data_on_device": True, "num_workers": 4}}), schema=SCHEMA)
    for bad in ({"data_on_device": "yes"}, {"device": 0}, {"num_workers": -1}, {"data_on_device_": True}):
        with pytest.raises(Exception, match="data_on_device|device|num_workers"):
            validate(config_with({"training": bad}), schema=SCHEMA)


def test_every_setting_has_its_default_in_config_yaml():
    """The schema requires every key the library reads, so config.yaml must hold each default (no second
    default in code): removing any training key, or a disentangle.model key, fails validation."""
    for section in ("training", "windows", "running_norm"):
        for key in default_config()[section]:
            config = config_with()
            del config[section][key]
            with pytest.raises(Exception, match=key):
                validate(config, schema=SCHEMA)
    for key in default_config()["disentangle"]["model"]:
        config = config_with()
        del config["disentangle"]["model"][key]
        with pytest.raises(Exception, match=key):
            validate(config, schema=SCHEMA)
    assert disentangle_config().epochs == default_config()["disentangle"]["model"]["epochs"]
    with pytest.raises(ValueError, match=r"training: missing \['lr'\]"):
        TrainingSettings.from_config({k: v for k, v in default_config()["training"].items() if k != "lr"})
    with pytest.raises(ValueError, match=r"unknown \['lr_decay'\]"):
        TrainingSettings.from_config({**default_config()["training"], "lr_decay": 0.1})
    assert RunningNormSettings.from_config({**default_config()["running_norm"], "tau": math.inf}).tau == math.inf


def test_schema_name_lists_equal_the_code_registries():
    from emgcore.cross.losses import LOSSES
    from emgcore.cross.runs import FEATURE_MODELS
    from emgcore.disentangle.latent import CLASSIFIERS
    from emgcore.disentangle.measures import MEASURES
    from emgcore.features.native import GROUPS, PARAM_DEFAULTS
    from emgcore.layout import NORM_MODES, RUN_PATTERN
    from emgcore.models import MODELS
    from emgcore.preprocess.segmentation import VARIANTS

    schema = yaml.safe_load(Path(SCHEMA).read_text())
    definitions, properties = schema["definitions"], schema["properties"]
    assert sorted(definitions["model"]["enum"]) == sorted(MODELS)
    assert sorted(definitions["loss"]["enum"]) == sorted(LOSSES)
    assert sorted(definitions["variant"]["enum"]) == sorted(VARIANTS)
    assert sorted(definitions["norm"]["enum"]) == sorted(NORM_MODES)
    assert definitions["feature_group"]["enum"] == list(GROUPS)
    assert sorted(definitions["feature_model"]["enum"]) == sorted(FEATURE_MODELS)
    dis = properties["disentangle"]["properties"]
    assert sorted(dis["measures"]["items"]["enum"]) == sorted(MEASURES)
    assert sorted(dis["classifiers"]["items"]["enum"]) == sorted(CLASSIFIERS)
    assert properties["pca"]["properties"]["runs"]["items"]["pattern"] == f"^{RUN_PATTERN}$"
    feature_params = properties["training"]["properties"]["feature_params"]["propertyNames"]["enum"]
    assert sorted(feature_params) == sorted(PARAM_DEFAULTS)
