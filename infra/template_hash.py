"""The hash of the template a stack was last deployed from, kept on the stack itself.

A template cannot hold its own hash, so the value is a parameter: the template declares it (the
same text whatever the value) and `cdk deploy STACK --parameters STACK:TemplateHash=H` sets it;
an output repeats it. `tutormail out-of-date` reads it back for a whole fleet from DescribeStacks
pages, which carry every stack's parameters and outputs
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html).
A deploy that does not pass it keeps the previous value, so the stack shows as out of date.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, CfnParameter, Stack
from tutormail.lifecycle.out_of_date import HASH_PARAMETER, NOT_RECORDED


def record_template_hash(stack: Stack) -> None:
    value = CfnParameter(stack, HASH_PARAMETER, type="String", default=NOT_RECORDED,
                         description="sha256 of the template deployed (set by the pipeline; see "
                                     "tutormail out-of-date)")
    CfnOutput(stack, "DeployedTemplateHash", value=value.value_as_string,
              description="sha256 of the template this stack was deployed from")
