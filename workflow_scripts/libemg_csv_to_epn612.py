"""Rule libemg_csv_to_epn612: a folder of libemg-style CSV recordings (R_<rep>_C_<class>.csv) rewritten
in the EPN-612 JSON layout: the people of libemg_csv.training become training users, those of
libemg_csv.testing testing users, every repetition a labelled sample (emgcore.data.libemg_csv)."""

from script_setup import start

start(snakemake)

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from emgcore.data.libemg_csv import RecordingLayout, read_recordings, write_recordings_as_epn612  # noqa: E402

p = snakemake.params
people = {
    group: read_recordings(RecordingLayout.from_config({"root": p.root, "name": group, **layout})) if layout else {}
    for group, layout in (("training", p.training), ("testing", p.testing))
}
out = Path(snakemake.output[0])
tmp = out.with_name(out.name + ".partial")  # the folder appears whole or not at all
shutil.rmtree(tmp, ignore_errors=True)
summary = write_recordings_as_epn612(tmp, people["training"], people["testing"], source=str(p.root))
tmp.rename(out)
for user in summary["users"]:
    print(user["user"], user["subject"], user["samples"])
