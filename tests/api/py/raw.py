"""Raw App Mesh API requests, signed with SigV4 by botocore's own signer,
for input the SDK would never send."""

import datetime
import http.client
import json
import os
from urllib.parse import urlsplit

import botocore.auth
import botocore.awsrequest
import botocore.credentials


def send(method, path, body=b"", key_id="AKIDMESHPLANETEST", secret="unused",
         skew=None, sign=True, headers=None, sent_body=None):
    """Send one request; returns (status, headers dict lower-cased, body text).
    `skew` (a timedelta) moves the signing clock; `sent_body` replaces the
    signed body on the wire."""
    endpoint = os.environ["MESHPLANE_API_ENDPOINT"]
    region = os.environ.get("MESHPLANE_API_REGION", "us-west-2")
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    req = botocore.awsrequest.AWSRequest(method=method, url=endpoint + path, data=body,
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
    if sign:
        creds = botocore.credentials.Credentials(key_id, secret)
        signer = botocore.auth.SigV4Auth(creds, "appmesh", region)
        if skew is None:
            signer.add_auth(req)
        else:
            real = botocore.auth.get_current_datetime
            botocore.auth.get_current_datetime = lambda: real() + skew
            try:
                signer.add_auth(req)
            finally:
                botocore.auth.get_current_datetime = real
    prepared = req.prepare()
    url = urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        wire, sent = prepared.body, dict(prepared.headers)
        if sent_body is not None:
            wire = sent_body
            sent = {k: v for k, v in sent.items() if k.lower() != "content-length"}
        try:
            conn.request(method, path, body=wire, headers=sent)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (and close) before reading it all
        try:
            resp = conn.getresponse()
        except (ConnectionError, http.client.HTTPException) as e:
            raise AssertionError(f"{method} {path}: no HTTP answer ({e!r})") from None
        text = resp.read().decode("utf-8", "replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
    finally:
        conn.close()


def expect(answer, status, error_type, words=()):
    """Require an error answer: HTTP status, x-amzn-ErrorType, a JSON body
    with a message containing each of `words`, and a request id."""
    got_status, headers, text = answer
    etype = headers.get("x-amzn-errortype", "").split(":")[0]
    problems = []
    if got_status != status:
        problems.append(f"status {got_status}, expected {status}")
    if etype != error_type:
        problems.append(f"x-amzn-ErrorType {etype!r}, expected {error_type!r}")
    if not headers.get("x-amzn-requestid"):
        problems.append("no x-amzn-RequestId")
    try:
        message = json.loads(text).get("message") or json.loads(text).get("Message") or ""
    except ValueError:
        message = ""
        problems.append(f"body is not JSON: {text[:200]!r}")
    for w in words:
        if w not in message:
            problems.append(f"message {message!r} lacks {w!r}")
    if problems:
        raise AssertionError("; ".join(problems) + f" (body {text[:300]!r})")
    return message


SKEW = datetime.timedelta(minutes=20)
