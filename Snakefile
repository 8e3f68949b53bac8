# Cross-user EMG gesture recognition benchmark.
#   snakemake --cores all                      demo on synthetic EPN-612-layout data
#   snakemake --cores all --config dataset=epn612 data_dir=/path/to/EMG-EPN612
#   snakemake --cores all results/figures/cross/<run>_<eval_variant>_<norm>.png   one figure
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/preprocess.smk"
include: "rules/cross.smk"
include: "rules/report.smk"


rule all:
    input:
        "results/results.csv",
        cross_figures(),
