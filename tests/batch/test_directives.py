"""The #PBS, #BSUB and #$ lines rendered for every resource, scheduling and
execution field (no scheduler needed)."""

from __future__ import annotations

import pytest

import molq as mq
from molq.errors import ConfigError
from molq.options import SGESchedulerOptions
from molq.scheduler.base import DependencyEdge
from molq.scheduler.lsf import LSFScheduler, render_bsub_directives
from molq.scheduler.pbs import PBSScheduler, render_pbs_directives
from molq.scheduler.sge import SGEScheduler, render_sge_directives
from molq.submission import Command, JobSpec


def spec(resources=None, scheduling=None, execution=None, out="/jobs/j1/stdout.log") -> JobSpec:
    return JobSpec(
        job_id="0123456789abcdef",
        cluster_name="c",
        scheduler="x",
        command=Command(argv=("true",)),
        resources=resources or mq.JobResources(),
        scheduling=scheduling or mq.JobScheduling(),
        execution=execution or mq.JobExecution(),
        cwd="/work dir",
        job_dir="/jobs/j1",
        stdout_path=out,
        stderr_path="/jobs/j1/stderr.log",
    )


FULL_R = mq.JobResources(cpu_count=8, memory="32G", gpu_count=2, time_limit="30h")
FULL_S = mq.JobScheduling(partition="gpu", account="proj", priority="10", email="me@example.org")


def test_pbspro_full_sample() -> None:
    lines = render_pbs_directives(spec(FULL_R, FULL_S, mq.JobExecution(job_name="train model")))
    assert lines == [
        "#PBS -N train_model",
        "#PBS -q gpu",
        "#PBS -A proj",
        "#PBS -l select=1:ncpus=8:mem=32gb:ngpus=2",
        "#PBS -l walltime=30:00:00",
        "#PBS -o /jobs/j1/stdout.log",
        "#PBS -e /jobs/j1/stderr.log",
        "#PBS -p 10",
        "#PBS -M me@example.org",
        "#PBS -m ae",
        "#PBS -v MOLQ_JOB_ID=0123456789abcdef",
    ]


def test_pbs_cpus_are_never_dropped_and_tasks_are_mpi_ranks() -> None:
    nodes = render_pbs_directives(
        spec(mq.JobResources(cpu_count=4), mq.JobScheduling(node_count=2, exclusive_node=True))
    )
    assert "#PBS -l select=2:ncpus=4" in nodes and "#PBS -l place=scatter:excl" in nodes
    mpi = render_pbs_directives(spec(mq.JobResources(task_count=8, cpu_count=2), mq.JobScheduling(node_count=2)))
    assert "#PBS -l select=2:ncpus=8:mpiprocs=4:ompthreads=2" in mpi
    torque = render_pbs_directives(
        spec(
            mq.JobResources(task_count=8, cpu_count=2, memory="1G", gpu_count=1),
            mq.JobScheduling(node_count=2, exclusive_node=True),
        ),
        "torque",
    )
    assert "#PBS -l nodes=2:ppn=8:gpus=1" in torque and "#PBS -l mem=2gb" in torque and "#PBS -n" in torque
    with pytest.raises(ConfigError, match="multiple of node_count"):
        render_pbs_directives(spec(mq.JobResources(task_count=3), mq.JobScheduling(node_count=2)))


def test_pbs_arrays_dependencies_and_quoting() -> None:
    arr = render_pbs_directives(spec(scheduling=mq.JobScheduling(array_spec="1-10%2"), out="/o/array-%a.out"))
    assert "#PBS -J 1-10%2" in arr and "#PBS -o /o/array-^array_index^.out" in arr
    assert "#PBS -t 1,3,5" in render_pbs_directives(spec(scheduling=mq.JobScheduling(array_spec="1,3,5")), "torque")
    with pytest.raises(ConfigError, match="ranges"):
        render_pbs_directives(spec(scheduling=mq.JobScheduling(array_spec="1,3,5")))
    assert '#PBS -o "/a dir/out.log"' in render_pbs_directives(spec(out="/a dir/out.log"))
    pbs = PBSScheduler()
    edges = [
        DependencyEdge("after_success", "1"),
        DependencyEdge("after_success", "2[]"),
        DependencyEdge("after_failure", "3"),
        DependencyEdge("after", "4"),
    ]
    assert pbs.format_dependencies(edges) == "afterok:1:2[],afternotok:3,afterany:4"
    dep = render_pbs_directives(spec(scheduling=mq.JobScheduling(dependency="afterok:1:2")))
    assert "#PBS -W depend=afterok:1:2" in dep
    with pytest.raises(ConfigError):
        render_pbs_directives(spec(scheduling=mq.JobScheduling(priority="high")))


def test_lsf_full_sample() -> None:
    r = mq.JobResources(cpu_count=8, memory="32G", gpu_count=2, gpu_type="a100", time_limit="30h")
    s = mq.JobScheduling(
        partition="gpu",
        account="proj",
        priority="10",
        reservation="r1",
        exclusive_node=True,
        email="me@example.org",
        dependency="done(1) && exit(2)",
    )
    lines = render_bsub_directives(spec(r, s, mq.JobExecution(job_name="train model")))
    assert lines == [
        '#BSUB -J "train model"',
        "#BSUB -q gpu",
        "#BSUB -P proj",
        "#BSUB -n 8",
        "#BSUB -R span[hosts=1]",
        "#BSUB -M 33554432KB",
        "#BSUB -R rusage[mem=33554432KB]",
        "#BSUB -W 1800",
        "#BSUB -o /jobs/j1/stdout.log",
        "#BSUB -e /jobs/j1/stderr.log",
        "#BSUB -gpu num=2:gmodel=a100",
        "#BSUB -x",
        '#BSUB -w "done(1) && exit(2)"',
        "#BSUB -sp 10",
        "#BSUB -U r1",
        "#BSUB -u me@example.org",
        "#BSUB -N",
        "#BSUB -Jd molq:0123456789abcdef",
    ]


def test_lsf_tasks_nodes_arrays() -> None:
    mpi = render_bsub_directives(spec(mq.JobResources(task_count=8, cpu_count=2), mq.JobScheduling(node_count=2)))
    assert mpi[1:4] == ["#BSUB -n 8", "#BSUB -R span[ptile=4]", "#BSUB -R affinity[core(2)]"]
    nodes = render_bsub_directives(spec(mq.JobResources(cpu_count=4), mq.JobScheduling(node_count=3)))
    assert nodes[1:3] == ["#BSUB -n 12", "#BSUB -R span[ptile=4]"]
    arr = render_bsub_directives(
        spec(
            scheduling=mq.JobScheduling(array_spec="1-10%2"),
            execution=mq.JobExecution(job_name="my job"),
            out="/o/a-%a.out",
        )
    )
    assert arr[0] == "#BSUB -J my_job[1-10]%2" and "#BSUB -o /o/a-%I.out" in arr
    lsf = LSFScheduler()
    assert (
        lsf.format_dependencies(
            [
                DependencyEdge("after_success", "1"),
                DependencyEdge("after", "2"),
                DependencyEdge("after_failure", "3"),
                DependencyEdge("after_started", "4"),
            ]
        )
        == "done(1) && ended(2) && exit(3) && started(4)"
    )
    assert not lsf.capabilities().supports_qos and lsf.capabilities().supports_array_jobs


def test_sge_full_sample() -> None:
    r = mq.JobResources(cpu_count=4, memory="8G", time_limit="2h")
    s = mq.JobScheduling(
        partition="all.q",
        account="proj",
        priority="-5",
        dependency="12,13",
        array_spec="1-9:2%3",
        email="me@example.org",
        reservation="7",
    )
    lines = render_sge_directives(spec(r, s, mq.JobExecution(job_name="9 lives: a/b"), out="/o/t-%a.log"))
    assert lines == [
        "#$ -N j9_lives__a_b",
        "#$ -S /bin/bash",
        '#$ -wd "/work dir"',
        "#$ -q all.q",
        "#$ -A proj",
        "#$ -pe smp 4",
        "#$ -l h_vmem=2G",
        "#$ -l h_rt=02:00:00",
        "#$ -o /o/t-$TASK_ID.log",
        "#$ -e /jobs/j1/stderr.log",
        "#$ -hold_jid 12,13",
        "#$ -t 1-9:2",
        "#$ -tc 3",
        "#$ -p -5",
        "#$ -ar 7",
        "#$ -M me@example.org",
        "#$ -m ae",
        "#$ -ac molq=0123456789abcdef",
    ]


def test_sge_paths_molq_adds_are_literal_the_users_name_keeps_patterns() -> None:
    job = JobSpec(
        job_id="j",
        cluster_name="c",
        scheduler="sge",
        command=Command(argv=("true",)),
        cwd="/w/$USER x:1",
        job_dir="/w/$USER x:1/.molq/jobs/d$HOME",
        stdout_path="/w/$USER x:1/o-$JOB_ID-%a.log",
        stderr_path="/w/$USER x:1/.molq/jobs/d$HOME/stderr.log",
    )
    lines = render_sge_directives(job)
    assert '#$ -wd "/w/$$USER x:1"' in lines
    # molq's part escaped ($$), the user's name keeps Grid Engine's $JOB_ID; a colon gets an empty host
    assert '#$ -o ":/w/$$USER x:1/o-$JOB_ID-$TASK_ID.log"' in lines
    assert '#$ -e ":/w/$$USER x:1/.molq/jobs/d$$HOME/stderr.log"' in lines


def test_sge_pe_names_and_refusals() -> None:
    mpi = render_sge_directives(
        spec(mq.JobResources(task_count=4, cpu_count=2)), SGESchedulerOptions(mpi_pe_name="mpi")
    )
    assert "#$ -pe mpi 8" in mpi
    with pytest.raises(ConfigError, match="mpi_pe_name"):
        render_sge_directives(spec(mq.JobResources(task_count=4)))
    with pytest.raises(ConfigError, match="pe_name"):
        render_sge_directives(spec(mq.JobResources(cpu_count=4)), SGESchedulerOptions(pe_name=None))
    assert not any("-pe" in x for x in render_sge_directives(spec(mq.JobResources(cpu_count=1))))
    with pytest.raises(ConfigError, match="n\\[-m"):
        render_sge_directives(spec(scheduling=mq.JobScheduling(array_spec="1,3")))
    sge = SGEScheduler()
    assert sge.format_dependencies([DependencyEdge("after", "5"), DependencyEdge("after", "6")]) == "5,6"
    with pytest.raises(ConfigError, match="after="):
        sge.format_dependency(DependencyEdge("after_success", "5"))
    caps = sge.capabilities()
    assert caps.supports_cpu_count and not caps.supports_gpu_count and not caps.supports_node_count


def test_capabilities_refuse_what_a_backend_cannot_do(tmp_path) -> None:
    sub = mq.Submitor(mq.Cluster("c", "pbs"), jobs_dir=tmp_path / "jobs", store=mq.store.JobStore(tmp_path / "db"))
    with pytest.raises(ConfigError, match="qos"):
        sub.submit_job(argv=["true"], scheduling=mq.JobScheduling(qos="high"))
    sub.close()
