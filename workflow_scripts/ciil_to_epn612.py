"""Rule ciil_to_epn612: the real CIIL Myo recordings rewritten in the EPN-612 JSON layout.

ElectrodeShift people become training users, MinimalTrainingData people testing users.
"""

from script_setup import start

start(snakemake)

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from emgcore.data.ciil import list_ciil_subjects, write_ciil_as_epn612  # noqa: E402

root = Path(snakemake.params.root)
subjects = [s.relative_to(root) for s in list_ciil_subjects(root)]  # names relative to root, as the writer takes
train = [s for s in subjects if s.parent.name == "ElectrodeShift"]
test = [s for s in subjects if s.parent.name != "ElectrodeShift"]
out = Path(snakemake.output[0])
tmp = out.with_name(out.name + ".partial")
shutil.rmtree(tmp, ignore_errors=True)
print(write_ciil_as_epn612(root, tmp, train + test, n_train_users=len(train)))
tmp.rename(out)
