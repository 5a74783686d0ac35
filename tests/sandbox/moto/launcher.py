"""moto server for the nlb-sandbox.

Starts moto's WSGI app on 127.0.0.1 (a free port, or the one given with
``--port``), prints ``PORT=NNNN`` on stdout once it accepts connections, and
runs until stdin closes or SIGTERM/SIGINT arrives.

The app is wrapped in a small middleware that adds, under ``/_sandbox/``:

* ``GET  /_sandbox/requests``        -> JSON list of {service, action, count}
* ``POST /_sandbox/requests/reset``  -> clears the counters and the keys
* ``GET  /_sandbox/access-keys``     -> JSON list of the access key ids seen
* ``POST /_sandbox/faults``          -> JSON list of {service, action, status,
                                        code, message, times}; the next
                                        ``times`` matching requests fail with
                                        an AWS error body
* ``DELETE /_sandbox/faults``        -> clears faults
* ``POST /_sandbox/target-health``   -> JSON {"<key>": {"state": .., "reason": ..,
                                        "description": ..}}; DescribeTargetHealth
                                        reports these instead of moto's answer.
                                        Keys, most specific first:
                                        "<target group ARN>/<id>:<port>",
                                        "<target group ARN>/<id>", "<id>:<port>",
                                        "<id>" (see "target health overrides")
* ``DELETE /_sandbox/target-health`` -> clears the overrides
* ``POST /_sandbox/nodeport-health`` -> JSON {"<instance>:<nodePort>": bool}: the
                                        whole set of Local NodePort health answers
* ``POST /_sandbox/lifecycle``       -> JSON {"scale": f, "initial_checks": n|null,
                                        "settle": bool}: how long targets stay
                                        ``initial`` and ``draining`` (see below)

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
import time
import uuid
from urllib.parse import parse_qs

from werkzeug.serving import make_server

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.elbv2 import models as elbv2_models
from moto.elbv2.exceptions import ELBClientError
from moto.route53 import models as route53_models
from moto.route53.exceptions import ResourceRecordAlreadyExists, Route53ClientError

LOCK = threading.Lock()
COUNTS = {}  # (service, action) -> count
FAULTS = []  # dicts with service, action, status, code, message, times
HEALTH = {}  # "[tg-arn/]id[:port]" -> {"state", "reason", "description"}

SCOPE_RE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
KEY_RE = re.compile(r"Credential=([^/]+)/")
KEYS = set()  # access key ids the product signed with
# Requests signed with this access key come from the sandbox itself (seeding,
# the LBC stand-in): they are neither counted nor subject to faults.
INTERNAL_KEY = "SANDBOXINTERNAL"

# --- target health overrides --------------------------------------------------

_orig_health_for = elbv2_models.FakeTargetGroup.health_for


# NodePort health checks of Services with externalTrafficPolicy: Local: kube-proxy
# answers them only on nodes that run a ready endpoint ("If the traffic policy
# is Local and there are no node-local endpoints, the kube-proxy does not
# forward any traffic", kubernetes.io docs, services-networking/service.md).
# The LBC stand-in keeps this set ("instance:port" -> bool) up to date.
NODEPORT = {}


# An override applies to one target of one target group ("<tg arn>/<id>:<port>",
# "<tg arn>/<id>") or to the target in every group ("<id>:<port>", "<id>"); the
# first key found in that order wins. The per-group keys are a test knob, not
# AWS behaviour: AWS has no per-group switch. Real per-group differences for
# the same address come from elsewhere, e.g. security-group rules that let one
# group's health-check source addresses through and not another's
# (network/target-group-register-targets.html#target-security-groups).
def _health_for(self, target, ec2_backend):
    status = _orig_health_for(self, target, ec2_backend)
    key = "%s:%s" % (status.instance_id, status.port)
    keys = ("%s/%s" % (self.arn, key), "%s/%s" % (self.arn, status.instance_id),
            key, str(status.instance_id))
    with LOCK:
        override = next((HEALTH[k] for k in keys if k in HEALTH), None)
        if override is None and NODEPORT.get(key) is False and status.status == "healthy":
            override = {"state": "unhealthy", "reason": "Target.FailedHealthChecks",
                        "description": "Health checks failed"}
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

# --- target lifecycle ------------------------------------------------------------
#
# moto reports a registered target healthy at once and forgets a deregistered
# one. ELBv2 does neither (TargetHealth states,
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html):
#
# * a new target is `initial` (Elb.RegistrationInProgress, then
#   Elb.InitialHealthChecking) until it has passed the health check
#   HealthyThresholdCount times, one check per HealthCheckIntervalSeconds
#   ("targets pass the initial health checks", network/target-group-health-checks.html);
# * a deregistered target is `draining` (Target.DeregistrationInProgress) for
#   the target group's deregistration_delay.timeout_seconds (default 300,
#   network/load-balancer-target-groups.html#deregistration-delay), and still
#   listed by DescribeTargetHealth meanwhile.
#
# Real seconds are scaled by LIFECYCLE["scale"] (sandbox seconds per real
# second); LIFECYCLE["initial_checks"] replaces HealthyThresholdCount when set.
# POST /_sandbox/lifecycle changes them; {"settle": true} ages every current
# registration so a freshly seeded world is healthy.

LIFECYCLE = {"scale": 0.01, "initial_checks": None}
REGISTERED_AT = {}  # (tg arn, target id) -> monotonic time
DRAINING = {}  # (tg arn, target id) -> (target dict, monotonic end)

_orig_register = elbv2_models.FakeTargetGroup.register
_orig_deregister = elbv2_models.FakeTargetGroup.deregister
_lifecycle_health_for = elbv2_models.FakeTargetGroup.health_for


def _now():
    return time.monotonic()


def _register(self, targets):
    _orig_register(self, targets)
    with LOCK:
        for t in targets:
            key = (self.arn, t["Id"])
            DRAINING.pop(key, None)
            REGISTERED_AT.setdefault(key, _now())


def _deregister(self, targets):
    _orig_deregister(self, targets)
    delay = float(self.attributes.get("deregistration_delay.timeout_seconds", 300))
    with LOCK:
        scale = LIFECYCLE["scale"]
        for t in targets:
            key = (self.arn, t["Id"])
            REGISTERED_AT.pop(key, None)
            kept = self.deregistered_targets.get(t["Id"], t)
            DRAINING[key] = (kept, _now() + delay * scale)


def _initial_for(tg):
    checks = LIFECYCLE["initial_checks"]
    if checks is None:
        checks = int(tg.healthy_threshold_count)
    return checks * float(tg.health_check_interval_seconds) * LIFECYCLE["scale"]


def _health_with_lifecycle(self, target, ec2_backend):
    key = (self.arn, target["Id"])
    with LOCK:
        draining = DRAINING.get(key)
        started = REGISTERED_AT.get(key)
    if draining is not None and _now() < draining[1] and target["Id"] not in self.targets:
        t = draining[0]
        return elbv2_models.FakeHealthStatus(
            t["Id"], t.get("Port", self.port), self.health_check_port, "draining",
            "Target.DeregistrationInProgress", "Target deregistration is in progress")
    status = _lifecycle_health_for(self, target, ec2_backend)
    if status.status == "healthy" and started is not None and _now() - started < _initial_for(self):
        return elbv2_models.FakeHealthStatus(
            status.instance_id, status.port, status.health_check_port, "initial",
            "Elb.InitialHealthChecking", "Initial health checks in progress")
    return status


_orig_describe_target_health = elbv2_models.ELBv2Backend.describe_target_health


def _describe_target_health(self, target_group_arn, targets):
    tg = self.target_groups.get(target_group_arn)
    if not targets and tg is not None:
        now = _now()
        with LOCK:
            leaving = [t for (arn, tid), (t, end) in DRAINING.items()
                       if arn == target_group_arn and now < end and tid not in tg.targets]
        targets = list(tg.targets.values()) + leaving
    return _orig_describe_target_health(self, target_group_arn, targets)


elbv2_models.FakeTargetGroup.register = _register
elbv2_models.FakeTargetGroup.deregister = _deregister
elbv2_models.FakeTargetGroup.health_for = _health_with_lifecycle
elbv2_models.ELBv2Backend.describe_target_health = _describe_target_health

# --- target group attributes as AWS keeps them ---------------------------------------
#
# * NLB target groups report preserve_client_ip.enabled and
#   proxy_protocol_v2.enabled even when never set; the client-IP default is on
#   for instance targets and for UDP/TCP_UDP, off for ip TCP/TLS
#   (network/edit-target-group-attributes.html#client-ip-preservation).
# * "client IP preservation is enabled (and can't be disabled) for ... UDP
#   and TCP_UDP": ModifyTargetGroupAttributes with false fails with
#   InvalidConfigurationRequest (the error quoted in
#   kubernetes-sigs/aws-load-balancer-controller#4899).

_orig_tg_init = elbv2_models.FakeTargetGroup.__init__
UDP_PROTOCOLS = ("UDP", "TCP_UDP")


def _tg_init(self, *args, **kwargs):
    _orig_tg_init(self, *args, **kwargs)
    if self.protocol in ("TCP", "TLS", "UDP", "TCP_UDP"):
        keep = self.target_type == "instance" or self.protocol in UDP_PROTOCOLS
        self.attributes.setdefault("preserve_client_ip.enabled", "true" if keep else "false")
        self.attributes.setdefault("proxy_protocol_v2.enabled", "false")


_orig_modify_tg_attributes = elbv2_models.ELBv2Backend.modify_target_group_attributes


def _modify_tg_attributes(self, target_group_arn, attributes):
    tg = self.target_groups.get(target_group_arn)
    if (tg is not None and tg.protocol in UDP_PROTOCOLS
            and str(attributes.get("preserve_client_ip.enabled", "")).lower() == "false"):
        raise ELBClientError(
            "InvalidConfigurationRequest",
            "preserve_client_ip.enabled cannot be false if the target group protocol is UDP or TCP_UDP")
    return _orig_modify_tg_attributes(self, target_group_arn, attributes)


elbv2_models.FakeTargetGroup.__init__ = _tg_init
elbv2_models.ELBv2Backend.modify_target_group_attributes = _modify_tg_attributes

# --- deletion protection --------------------------------------------------------------
#
# "You can't delete a Network Load Balancer if deletion protection is enabled"
# (network/load-balancer-delete.html); DeleteLoadBalancer answers
# OperationNotPermitted (API_DeleteLoadBalancer.html). moto deletes anyway.

_orig_delete_lb = elbv2_models.ELBv2Backend.delete_load_balancer


def _delete_lb(self, arn):
    lb = self.load_balancers.get(arn)
    if lb is not None and str(lb.attrs.get("deletion_protection.enabled", "false")).lower() == "true":
        raise ELBClientError(
            "OperationNotPermitted",
            "Load balancer '%s' cannot be deleted because deletion protection is enabled" % arn)
    return _orig_delete_lb(self, arn)


elbv2_models.ELBv2Backend.delete_load_balancer = _delete_lb

# --- weighted forward actions on listeners --------------------------------------
#
# Since November 2025 an NLB listener's forward action may name several target
# groups, each with a weight from 0 to 999 ("Users can assign numeric weights
# between 0 and 999 to each NLB target group",
# https://aws.amazon.com/blogs/networking-and-content-delivery/network-load-balancers-now-support-weighted-target-groups).
# moto 5.2.5 already accepts, stores and returns ForwardConfig weights on any
# load balancer type (FakeAction defaults a missing Weight to 1), but:
# * it accepts any weight (1000, -1); AWS answers ValidationError;
# * ModifyListener checks no target group (CreateListener does:
#   TargetGroupNotFound);
# * a target group's LoadBalancerArns only ever grows: ModifyListener does not
#   add the NLB to a newly forwarded-to group, and neither ModifyListener nor
#   DeleteListener removes it from a group no listener forwards to any more.
# Listener rules (ALB only) are left as moto has them.

WEIGHT_MAX = 999


def _check_weights(actions):
    for i, action in enumerate(actions or [], start=1):
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        for j, tg in enumerate(groups, start=1):
            if "Weight" not in tg:
                continue
            w = int(tg["Weight"])
            if w < 0 or w > WEIGHT_MAX:
                bound = ("greater than or equal to 0" if w < 0
                         else "less than or equal to %d" % WEIGHT_MAX)
                raise ELBClientError(
                    "ValidationError",
                    "1 validation error detected: Value '%d' at "
                    "'defaultActions.%d.member.forwardConfig.targetGroups.%d.member.weight' "
                    "failed to satisfy constraint: Member must have value %s" % (w, i, j, bound))


def _sync_tg_load_balancers(backend, lb_arn):
    """Each target group lists this NLB exactly when one of its listeners forwards to it."""
    lb = backend.load_balancers.get(lb_arn)
    used = set()
    if lb is not None:
        for listener in lb.listeners.values():
            for action in listener.default_actions:
                if action.type == "forward":
                    used.update(backend._get_target_group_arns_from(action_data=action.data))
    for arn, tg in backend.target_groups.items():
        if arn in used and lb_arn not in tg.load_balancer_arns:
            tg.load_balancer_arns.append(lb_arn)
        elif arn not in used and lb_arn in tg.load_balancer_arns:
            tg.load_balancer_arns.remove(lb_arn)


_orig_create_listener = elbv2_models.ELBv2Backend.create_listener
_orig_modify_listener = elbv2_models.ELBv2Backend.modify_listener
_orig_delete_listener = elbv2_models.ELBv2Backend.delete_listener


def _create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions,
                     *args, **kwargs):
    _check_weights(actions)
    return _orig_create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate,
                                 actions, *args, **kwargs)


def _modify_listener(self, arn, *args, **kwargs):
    actions = kwargs.get("actions", args[4] if len(args) > 4 else None)
    _check_weights(actions)
    if actions:
        self._validate_actions([elbv2_models.FakeAction(dict(a)) for a in actions])
    listener = _orig_modify_listener(self, arn, *args, **kwargs)
    _sync_tg_load_balancers(self, listener.load_balancer_arn)
    return listener


def _delete_listener(self, listener_arn):
    listener = _orig_delete_listener(self, listener_arn)
    _sync_tg_load_balancers(self, listener.load_balancer_arn)
    return listener


elbv2_models.ELBv2Backend.create_listener = _create_listener
elbv2_models.ELBv2Backend.modify_listener = _modify_listener
elbv2_models.ELBv2Backend.delete_listener = _delete_listener

# --- Route 53 batch semantics --------------------------------------------------
#
# Route 53 applies a change batch in order and as a whole ("Route 53 validates
# the changes ... and then either makes all or none",
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html).
# moto 5.2 differs in ways a switch depends on, so every batch is checked here
# first against the zone's running state, then applied one change at a time:
#
# * a CREATE of a record that exists fails (moto instead checks the zone's
#   history, so "DELETE weighted pair + CREATE the original" failed);
# * a DELETE must name an existing record with exactly its values ("To delete
#   a resource record set, you must specify all the same values that you
#   specified when you created it", API_ChangeResourceRecordSets); moto
#   matched against its history instead;
# * a simple and a weighted record set of one name and type cannot coexist:
#   "RRSet with DNS name ..., type A cannot be created as a non-weighted set
#   exists with the same name and type" (seen in kubernetes-sigs/external-dns#3141);
# * a DELETE with a SetIdentifier removes that record of that name only
#   (moto removed every record with the identifier, across names);
# * names and alias targets are stored the way Route 53 returns them (see
#   _r53_name / _alias_dns below).

_orig_change_rrsets = route53_models.Route53Backend.change_resource_record_sets
_orig_delete_by_id = route53_models.FakeZone.delete_rrset_by_id
DELETING = threading.local()


def _r53_name(name):
    """A record name as ListResourceRecordSets returns it: lower case
    ("Amazon Route 53 stores alphabetic characters as lowercase letters"),
    every character other than a-z, 0-9, hyphen and underscore as a
    backslash and three octal digits (`*` -> `\052`), and fully qualified
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html)."""
    raw = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), name)
    labels = raw.rstrip(".").split(".")
    out = []
    for label in labels:
        chars = []
        for byte in label.lower().encode("utf-8"):
            ch = chr(byte)
            chars.append(ch if (ch.isascii() and (ch.isalnum() or ch in "-_")) else "\\%03o" % byte)
        out.append("".join(chars))
    return ".".join(out) + "."


def _alias_dns(name):
    """Alias targets come back lower-cased and fully qualified (Route 53
    normalises them: terraform-provider-aws#3119 "Route53 normalizes these to
    lowercase and only returns the lowercase value"; hashicorp/terraform#10007
    shows the trailing dot)."""
    return name.lower().rstrip(".") + "."


def _normalise(rr):
    rr = dict(rr)
    rr["Name"] = _r53_name(rr["Name"])
    if rr.get("AliasTarget"):
        alias = dict(rr["AliasTarget"])
        alias["DNSName"] = _alias_dns(alias.get("DNSName", ""))
        rr["AliasTarget"] = alias
    return rr


def _values(rr):
    """What a DELETE must repeat exactly, from a change or a stored RecordSet."""
    get = rr.get if isinstance(rr, dict) else lambda k, d=None: {
        "TTL": rr.ttl, "ResourceRecords": rr.records, "AliasTarget": rr.alias_target,
        "Weight": rr.weight, "HealthCheckId": rr.health_check_id,
    }.get(k, d)
    records = [r["Value"] if isinstance(r, dict) else r for r in (get("ResourceRecords") or [])]
    alias = get("AliasTarget") or None
    if alias:
        alias = (str(alias.get("HostedZoneId")), _alias_dns(str(alias.get("DNSName", ""))),
                 str(alias.get("EvaluateTargetHealth", "false")).lower())
    ttl = get("TTL")
    weight = get("Weight")
    return (None if ttl in (None, "") else str(ttl), sorted(records), alias,
            None if weight in (None, "") else str(weight), get("HealthCheckId"))


def _check_batch(zone, changes):
    state = {}
    for r in zone.rrsets:
        state[(_r53_name(r.name), r.type, r.set_identifier)] = _values(r)
    zone_name = _r53_name(zone.name)
    for change in changes:
        rr = change["ResourceRecordSet"]
        key = (rr["Name"], rr["Type"], rr.get("SetIdentifier"))
        desc = "[name='%s', type='%s'%s]" % (rr["Name"], rr["Type"],
                                             ", set-identifier='%s'" % key[2] if key[2] else "")
        if not (rr["Name"] == zone_name or rr["Name"].endswith("." + zone_name)):
            return None  # moto's own DnsNameInvalidForZone answers this one
        action = change["Action"]
        if action == "DELETE":
            if key not in state:
                raise Route53ClientError("InvalidChangeBatch",
                                         "Tried to delete resource record set %s but it was not found" % desc)
            if state[key] != _values(rr):
                raise Route53ClientError("InvalidChangeBatch",
                                         "Tried to delete resource record set %s but the values provided do not match the current values" % desc)
            del state[key]
            continue
        if action == "CREATE" and key in state:
            raise ResourceRecordAlreadyExists(name=rr["Name"], _type=rr["Type"])
        state[key] = _values(rr)
        same = [k for k in state if k[0] == key[0] and k[1] == key[1]]
        if any(k[2] is None for k in same) and any(k[2] is not None for k in same):
            kind = "non-weighted" if key[2] is not None else "weighted"
            raise Route53ClientError("InvalidChangeBatch",
                                     "RRSet with DNS name %s, type %s cannot be created as a %s set exists with the same name and type"
                                     % (rr["Name"], rr["Type"], kind))
    return state


def _change_rrsets(self, zoneid, change_list):
    zone = self.get_hosted_zone(zoneid)
    changes = [dict(c, ResourceRecordSet=_normalise(c["ResourceRecordSet"])) for c in change_list]
    _check_batch(zone, changes)
    for change in changes:
        DELETING.name = change["ResourceRecordSet"]["Name"]
        try:
            _orig_change_rrsets(self, zoneid, [change])
        finally:
            DELETING.name = None


def _delete_rrset_by_id(self, set_identifier):
    name = getattr(DELETING, "name", None)
    if name is None:
        return _orig_delete_by_id(self, set_identifier)
    self.rrsets = [r for r in self.rrsets
                   if not (r.set_identifier == set_identifier and _r53_name(r.name) == name)]


route53_models.Route53Backend.change_resource_record_sets = _change_rrsets
route53_models.FakeZone.delete_rrset_by_id = _delete_rrset_by_id
# _check_batch replaces both of moto's history checks.
route53_models.ChangeList.__contains__ = lambda self, item: False
route53_models.ChangeList.has_insert_or_update = lambda self, rr: True

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
        key = KEY_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
        fault = None
        with LOCK:
            if key:
                KEYS.add(key.group(1))
            counted = (service, action)
            COUNTS[counted] = COUNTS.get(counted, 0) + 1
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
        if path == "/_sandbox/access-keys" and method == "GET":
            with LOCK:
                return _json(start_response, "200 OK", sorted(KEYS))
        if path == "/_sandbox/requests/reset" and method == "POST":
            with LOCK:
                COUNTS.clear()
                KEYS.clear()
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
        if path == "/_sandbox/nodeport-health" and method == "POST":
            state = _read_json(environ, body)
            if not isinstance(state, dict):
                return _json(start_response, "400 Bad Request", {"error": "expected a JSON object"})
            with LOCK:
                NODEPORT.clear()
                NODEPORT.update({k: bool(v) for k, v in state.items()})
            return _json(start_response, "200 OK", {"ok": True})
        if path == "/_sandbox/lifecycle":
            if method == "POST":
                opts = _read_json(environ, body)
                if not isinstance(opts, dict):
                    return _json(start_response, "400 Bad Request", {"error": "expected a JSON object"})
                with LOCK:
                    if "scale" in opts:
                        LIFECYCLE["scale"] = float(opts["scale"])
                    if "initial_checks" in opts:
                        LIFECYCLE["initial_checks"] = opts["initial_checks"]
                    if opts.get("settle"):
                        for key in list(REGISTERED_AT):
                            REGISTERED_AT[key] = float("-inf")
                        DRAINING.clear()
            with LOCK:
                return _json(start_response, "200 OK", dict(LIFECYCLE))
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
