from __future__ import annotations

import dataclasses

import pytest

from molq.options import (
    OPTIONS_TYPE_MAP,
    LocalSchedulerOptions,
    LSFSchedulerOptions,
    PBSSchedulerOptions,
    SGESchedulerOptions,
    SlurmSchedulerOptions,
    SshTransportOptions,
)


def test_defaults() -> None:
    slurm = SlurmSchedulerOptions()
    assert (slurm.sbatch_path, slurm.squeue_path, slurm.scancel_path, slurm.sacct_path) == (
        "sbatch",
        "squeue",
        "scancel",
        "sacct",
    )
    assert slurm.extra_sbatch_flags == ()
    assert (slurm.submit_timeout, slurm.poll_chunk_size) == (60.0, 1000)
    assert PBSSchedulerOptions().tracejob_path == "tracejob"
    assert LSFSchedulerOptions().bhist_path == "bhist"
    assert SGESchedulerOptions().qacct_path == "qacct"
    ssh = SshTransportOptions("me@host")
    assert ssh.rsync_opts == ("-a", "--partial", "--inplace")
    assert (ssh.control_master, ssh.control_persist, ssh.connect_timeout, ssh.control_path) == (
        True,
        "60s",
        15,
        None,
    )


def test_type_map() -> None:
    assert OPTIONS_TYPE_MAP == {
        "local": LocalSchedulerOptions,
        "slurm": SlurmSchedulerOptions,
        "pbs": PBSSchedulerOptions,
        "lsf": LSFSchedulerOptions,
        "sge": SGESchedulerOptions,
    }


def test_lists_become_tuples_and_options_are_frozen() -> None:
    options = SlurmSchedulerOptions(extra_sbatch_flags=["--constraint=a100"])
    assert options.extra_sbatch_flags == ("--constraint=a100",)
    assert hash(options) == hash(SlurmSchedulerOptions(extra_sbatch_flags=("--constraint=a100",)))
    ssh = SshTransportOptions("h", ssh_opts=["-o", "BatchMode=yes"])
    assert ssh.ssh_opts == ("-o", "BatchMode=yes")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.sbatch_path = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "build",
    [
        lambda: SlurmSchedulerOptions(extra_sbatch_flags="--exclusive"),
        lambda: SlurmSchedulerOptions(extra_sbatch_flags=[1]),
        lambda: PBSSchedulerOptions(qsub_path=None),
        lambda: LSFSchedulerOptions(bsub_path=""),
        lambda: SlurmSchedulerOptions(submit_timeout=0),
        lambda: SlurmSchedulerOptions(poll_chunk_size=0),
        lambda: SlurmSchedulerOptions(poll_chunk_size=2.5),
        lambda: SshTransportOptions(""),
        lambda: SshTransportOptions("-oProxyCommand=x"),
        lambda: SshTransportOptions("h", port=0),
        lambda: SshTransportOptions("h", port=70000),
        lambda: SshTransportOptions("h", connect_timeout=0),
        lambda: SshTransportOptions("h", control_persist=""),
        lambda: SshTransportOptions("h", control_master="yes"),
        lambda: SshTransportOptions("h", identity_file=""),
    ],
)
def test_bad_values_are_rejected(build) -> None:
    with pytest.raises((ValueError, TypeError)):
        build()


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        SlurmSchedulerOptions(sinfo_path="sinfo")  # type: ignore[call-arg]
