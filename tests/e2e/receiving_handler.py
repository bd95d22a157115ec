"""A Lambda handler for tests/e2e/test_ses_receiving.py: the sandbox runs it as SES receiving's Lambda
action would (sandbox/receiving.py), and what it prints lands in the function's log group."""

import json
import os


def handler(event, context):
    record = event["Records"][0]["ses"]
    receipt = record["receipt"]
    print(json.dumps({"messageId": record["mail"]["messageId"], "source": record["mail"]["source"],
                      "recipients": receipt["recipients"], "spf": receipt["spfVerdict"]["status"],
                      "dkim": receipt["dkimVerdict"]["status"], "dmarc": receipt["dmarcVerdict"]["status"],
                      "dmarcPolicy": receipt.get("dmarcPolicy"), "action": receipt["action"]["type"],
                      "function": context.function_name,
                      "has_role_credentials": bool(os.environ.get("AWS_SESSION_TOKEN"))}, sort_keys=True))
    return {"disposition": "CONTINUE"}
