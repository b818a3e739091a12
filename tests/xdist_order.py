"""xdist's loadgroup scheduler, with the suite's longest groups sent first (tests/conftest.py says which they are)."""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling
from xdist.workermanage import WorkerController

#: The groups sent first, in this order, whatever their size: xdist sends the groups with the most tests first,
#: and a module's group of 17 short tests is not what should start the run.
FIRST_GROUPS = ("heavy", "long")


class LongestFirst(LoadGroupScheduling):  # type: ignore[misc]
    """LoadGroupScheduling that moves FIRST_GROUPS to the head of its queue before each unit it hands out.

    xdist builds the queue (`workqueue`, an OrderedDict of group -> tests) in `schedule()` and hands the first
    unit out at once, so the order is put right where the units are taken, not after the queue is built.
    """

    def _assign_work_unit(self, node: WorkerController) -> None:
        for name in reversed(FIRST_GROUPS):
            if name in self.workqueue:
                self.workqueue.move_to_end(name, last=False)
        super()._assign_work_unit(node)
