"""moto server for the nlb-sandbox.

Starts moto's WSGI app on 127.0.0.1 (a free port, or the one given with
``--port``), prints ``PORT=NNNN`` on stdout once it accepts connections, and
runs until stdin closes or SIGTERM/SIGINT arrives.

The app is wrapped in a small middleware that adds, under ``/_sandbox/``:

* ``GET  /_sandbox/requests``        -> JSON list of {service, action, count}
* ``POST /_sandbox/requests/reset``  -> clears the counters
* ``POST /_sandbox/faults``          -> JSON list of {service, action, status,
                                        code, message, times}; the next
                                        ``times`` matching requests fail with
                                        an AWS error body
* ``DELETE /_sandbox/faults``        -> clears faults
* ``POST /_sandbox/target-health``   -> JSON {"<id>" or "<id>:<port>":
                                        {"state": .., "reason": ..,
                                        "description": ..}}; DescribeTargetHealth
                                        reports these instead of moto's answer
* ``DELETE /_sandbox/target-health`` -> clears the overrides

Requests signed with the access key ``SANDBOXINTERNAL`` (the sandbox's own
seeding and LBC stand-in) are neither counted nor subject to faults. The
service name is the SigV4 scope's (``elasticloadbalancing``, ``ec2``,
``route53``); fault specs may say ``elbv2`` for ``elasticloadbalancing``.
Route 53 actions are derived from method + path (REST XML).
"""

import argparse
import json
import logging
import os
import re
import signal
import sys
import threading
import uuid
from urllib.parse import parse_qs

from werkzeug.serving import make_server

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.elbv2 import models as elbv2_models
from moto.route53 import models as route53_models
from moto.route53.exceptions import ResourceRecordAlreadyExists

LOCK = threading.Lock()
COUNTS = {}  # (service, action) -> count
FAULTS = []  # dicts with service, action, status, code, message, times
HEALTH = {}  # "id" or "id:port" -> {"state", "reason", "description"}

SCOPE_RE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
# Requests signed with this access key come from the sandbox itself (seeding,
# the LBC stand-in): they are neither counted nor subject to faults.
INTERNAL_KEY = "SANDBOXINTERNAL"

# --- target health overrides --------------------------------------------------

_orig_health_for = elbv2_models.FakeTargetGroup.health_for


def _health_for(self, target, ec2_backend):
    status = _orig_health_for(self, target, ec2_backend)
    with LOCK:
        override = HEALTH.get("%s:%s" % (status.instance_id, status.port))
        if override is None:
            override = HEALTH.get(str(status.instance_id))
    if override is None:
        return status
    return elbv2_models.FakeHealthStatus(
        status.instance_id,
        status.port,
        status.health_check_port,
        override.get("state", "unhealthy"),
        override.get("reason"),
        override.get("description"),
    )


elbv2_models.FakeTargetGroup.health_for = _health_for

# --- Route 53 batch semantics --------------------------------------------------
#
# Route 53 applies a change batch in order and as a whole: a batch may DELETE
# a record and CREATE one of the same name and type (AWS's own example turns
# a CNAME into an alias that way). moto 5.2 instead rejects any CREATE it has
# seen before in the zone's history while a record of that name and type
# exists *before* the batch, so "weighted pair -> original simple record"
# fails. Validate CREATEs against the batch's running state, as Route 53
# does, and drop moto's history check.

_orig_change_rrsets = route53_models.Route53Backend.change_resource_record_sets


def _rr_key(name, type_, set_identifier):
    return (name.strip(".").lower(), type_, set_identifier)


def _change_rrsets(self, zoneid, change_list):
    zone = self.get_hosted_zone(zoneid)
    present = {_rr_key(r.name, r.type, r.set_identifier) for r in zone.rrsets}
    for value in change_list:
        rr = value["ResourceRecordSet"]
        key = _rr_key(rr["Name"], rr["Type"], rr.get("SetIdentifier"))
        if value["Action"] == "DELETE":
            present.discard(key)
        elif value["Action"] == "CREATE":
            if key in present:
                raise ResourceRecordAlreadyExists(name=rr["Name"], _type=rr["Type"])
            present.add(key)
        else:
            present.add(key)
    return _orig_change_rrsets(self, zoneid, change_list)


route53_models.Route53Backend.change_resource_record_sets = _change_rrsets
# The history check is the only user of ChangeList membership.
route53_models.ChangeList.__contains__ = lambda self, item: False

# --- request classification ---------------------------------------------------


def _service(environ):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = SCOPE_RE.search(auth)
    if m:
        return m.group(1)
    return "unknown"


def _action(environ, service, body):
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in qs:
        return qs["Action"][0]
    ctype = environ.get("CONTENT_TYPE", "")
    if body and "x-www-form-urlencoded" in ctype:
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.split(".")[-1]
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    if service == "route53":
        return _route53_action(method, path)
    return "%s %s" % (method, path)


def _route53_action(method, path):
    p = re.sub(r"^/20\d\d-\d\d-\d\d", "", path)
    if re.fullmatch(r"/hostedzone/[^/]+/rrset/?", p):
        return "ChangeResourceRecordSets" if method == "POST" else "ListResourceRecordSets"
    if re.fullmatch(r"/hostedzone/?", p):
        return "CreateHostedZone" if method == "POST" else "ListHostedZones"
    if re.fullmatch(r"/hostedzonesbyname/?", p):
        return "ListHostedZonesByName"
    if re.fullmatch(r"/hostedzone/[^/]+/?", p):
        return {"GET": "GetHostedZone", "DELETE": "DeleteHostedZone", "POST": "UpdateHostedZoneComment"}.get(method, method + " " + p)
    if re.fullmatch(r"/change/[^/]+/?", p):
        return "GetChange"
    if p.startswith("/healthcheck"):
        return {"POST": "CreateHealthCheck", "GET": "GetHealthCheck", "DELETE": "DeleteHealthCheck"}.get(method, method + " " + p)
    if p.startswith("/tags/"):
        return "ChangeTagsForResource" if method == "POST" else "ListTagsForResource"
    return "%s %s" % (method, p)


ALIASES = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing"}


def _canon(service):
    """Fault specs may name ELBv2 as "elbv2"; SigV4 scopes say "elasticloadbalancing"."""
    return ALIASES.get(service, service)


def _error_body(service, code, message):
    rid = str(uuid.uuid4())
    if _canon(service) == "ec2":
        return (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>%s</Code>"
            "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>"
            % (_x(code), _x(message), rid)
        )
    return (
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>"
        "<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
        % (_x(code), _x(message), rid)
    )


def _x(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json(start_response, status, obj):
    data = json.dumps(obj).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _read_json(environ, body):
    try:
        return json.loads(body.decode("utf-8") or "null")
    except ValueError:
        return None


class SandboxMiddleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        if path.startswith("/_sandbox/"):
            return self.sandbox(method, path, environ, body, start_response)

        import io

        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if "Credential=%s/" % INTERNAL_KEY in environ.get("HTTP_AUTHORIZATION", ""):
            return self.app(environ, start_response)
        service = _service(environ)
        action = _action(environ, service, body)
        fault = None
        with LOCK:
            key = (service, action)
            COUNTS[key] = COUNTS.get(key, 0) + 1
            for f in FAULTS:
                if f["times"] > 0 and _canon(f["service"]) == service and f["action"] in (action, "*"):
                    f["times"] -= 1
                    fault = dict(f)
                    break
        if fault is not None:
            data = _error_body(service, fault["code"], fault["message"]).encode()
            status = int(fault.get("status", 400))
            start_response(
                "%d %s" % (status, "Error"),
                [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))],
            )
            return [data]
        return self.app(environ, start_response)

    def sandbox(self, method, path, environ, body, start_response):
        path = path.rstrip("/")
        if path == "/_sandbox/requests" and method == "GET":
            with LOCK:
                items = [
                    {"service": s, "action": a, "count": c}
                    for (s, a), c in sorted(COUNTS.items())
                ]
            return _json(start_response, "200 OK", items)
        if path == "/_sandbox/requests/reset" and method == "POST":
            with LOCK:
                COUNTS.clear()
            return _json(start_response, "200 OK", {"ok": True})
        if path == "/_sandbox/faults":
            if method == "DELETE":
                with LOCK:
                    FAULTS.clear()
                return _json(start_response, "200 OK", {"ok": True})
            if method == "POST":
                faults = _read_json(environ, body)
                if not isinstance(faults, list):
                    return _json(start_response, "400 Bad Request", {"error": "expected a JSON list"})
                with LOCK:
                    for f in faults:
                        FAULTS.append(
                            {
                                "service": f.get("service", ""),
                                "action": f.get("action", "*"),
                                "status": int(f.get("status", 400)),
                                "code": f.get("code", "Throttling"),
                                "message": f.get("message", "Rate exceeded"),
                                "times": int(f.get("times", 1)),
                            }
                        )
                return _json(start_response, "200 OK", {"ok": True})
            if method == "GET":
                with LOCK:
                    return _json(start_response, "200 OK", list(FAULTS))
        if path == "/_sandbox/target-health":
            if method == "DELETE":
                with LOCK:
                    HEALTH.clear()
                return _json(start_response, "200 OK", {"ok": True})
            if method == "POST":
                overrides = _read_json(environ, body)
                if not isinstance(overrides, dict):
                    return _json(start_response, "400 Bad Request", {"error": "expected a JSON object"})
                with LOCK:
                    HEALTH.update(overrides)
                return _json(start_response, "200 OK", {"ok": True})
            if method == "GET":
                with LOCK:
                    return _json(start_response, "200 OK", dict(HEALTH))
        return _json(start_response, "404 Not Found", {"error": "unknown sandbox endpoint"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = SandboxMiddleware(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    stop = threading.Event()

    def on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        try:
            while sys.stdin.read(4096):
                pass
        except Exception:  # noqa: BLE001 - any stdin failure means the parent is gone
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print("PORT=%d" % port, flush=True)
    stop.wait()
    server.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()
