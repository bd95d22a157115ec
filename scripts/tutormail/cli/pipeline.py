"""`tutormail pipeline plan|deploy|offboard|cleanup|watch`: one call per CI job (the workflow's logic).

Thin: parse, build the job (catalog, credentials, target), run it (tutormail.pipeline.jobs), write
the JSON report, the Markdown summary ($GITHUB_STEP_SUMMARY when set) and the step outputs
($GITHUB_OUTPUT) the next jobs read.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

from tutormail.aws import client as aws
from tutormail.cli import arguments
from tutormail.cli.output import emit_json
from tutormail.clock import FileClock
from tutormail.pipeline import jobs
from tutormail.pipeline.credentials import credentials
from tutormail.pipeline.deploy import CONCURRENCY, STACK_OPERATION, Target
from tutormail.pipeline.report import comment, markdown, write_json
from tutormail.plan.loader import load_catalog

JOBS = ("plan", "deploy", "offboard", "cleanup", "watch")
# In --artifacts: what the workflow uploads, and (plan) the comment it posts on the pull request.
REPORT, SUMMARY, COMMENT = "report.json", "summary.md", "comment.md"


def _minutes(text: str) -> timedelta:
    if not text.isdigit() or not 1 <= int(text) <= 60:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of minutes from 1 to 60")
    return timedelta(minutes=int(text))


def _slugs(text: str) -> list[str]:
    return [s for s in text.split(",") if s]


def register(add) -> None:
    parser = add("pipeline", cmd_pipeline, "a CI job in one process: plan (pull requests), deploy (what is out of "
                 "date, checked, in parallel waves), offboard, cleanup, watch; JSON report and Markdown summary")
    parser.add_argument("job", choices=JOBS)
    parser.add_argument("--cdk-out", default="cdk.out", metavar="DIR", help="cloud assembly of a full cdk synth")
    parser.add_argument("--role-arn", metavar="ARN", help="assume this role with the job's GitHub OIDC token, and "
                        "again before the session would end (default: the environment's credentials)")
    parser.add_argument("--concurrency", type=arguments.attempts, default=CONCURRENCY,
                        help=f"stacks deployed at a time (default {CONCURRENCY})")
    parser.add_argument("--stack-minutes", type=_minutes, default=STACK_OPERATION, metavar="M",
                        help="the longest one stack operation may take, for sizing waves "
                             f"(default {int(STACK_OPERATION.total_seconds() // 60)})")
    parser.add_argument("--artifacts", type=arguments.output_directory, default=jobs.ARTIFACTS,
                        metavar="DIR", help="report.json, summary.md, records, handoffs, logs")
    parser.add_argument("--slugs", type=_slugs, metavar="A,B", help="offboard/cleanup: these institutions "
                        "(default: offboard what out-of-date names; cleanup every institution)")
    parser.add_argument("--previous-ref", metavar="COMMIT", help="cleanup: the commit before the change, whose "
                        "institution files say where removed domains' DNS servers were (none or zeros: a first push)")


def cmd_pipeline(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions))
    aws.reuse_clients()
    runtime = args.runtime
    clock = FileClock(runtime.clock_file) if runtime.clock_file else runtime.clock
    job = jobs.Job(catalog=catalog, runtime=runtime, credentials=credentials(args.role_arn, catalog.platform.region,
                                                                             clock),
                   artifacts=Path(args.artifacts), concurrency=args.concurrency, operation=args.stack_minutes,
                   target=Target(catalog.platform.region, Path(args.cdk_out), method=runtime.cdk_method))
    before = jobs.deleted_files(Path(args.institutions)) if args.job in ("plan", "offboard") else None
    if args.job == "deploy":
        report = jobs.deploy_job(job)
    elif args.job == "plan":
        report = jobs.plan_job(job, before)
    elif args.job == "offboard":
        report = jobs.offboard_job(job, args.slugs if args.slugs is not None else jobs.out_of_date(job).offboard,
                                   before)
    elif args.job == "cleanup":
        report = jobs.cleanup_job(job, args.slugs if args.slugs is not None else sorted(catalog.institutions),
                                  jobs.tree_at(args.previous_ref, Path(args.institutions)))
    else:
        report = jobs.watch_job(job)
    data = report.as_dict()
    summary = markdown(data)
    write_json(data, job.artifacts / REPORT)
    (job.artifacts / SUMMARY).write_text(summary, encoding="utf-8")
    if args.job == "plan":
        (job.artifacts / COMMENT).write_text(comment(data, artifact=args.job), encoding="utf-8")
    _github_files(data, summary)
    if args.output == "json":
        emit_json({k: v for k, v in data.items() if k != "schema_version"})
    else:
        sys.stdout.write(summary)
    return data["exit_code"]


def _github_files(data: dict, summary: str) -> None:
    """The summary on the run's page, and what the next jobs need (`needs.deploy.outputs`)."""
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as out:
            out.write(summary)
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            for key in ("deployed", "offboard"):
                if key in data:
                    out.write(f"{key}={','.join(data[key])}\n")
            out.write(f"exit_code={data['exit_code']}\n")
