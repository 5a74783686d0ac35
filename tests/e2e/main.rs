//! The one integration-test binary: it drives the compiled `kubectl-nlb`
//! against the sandbox (kube-fake-client over HTTP, moto, an LBC stand-in).

mod audit;
mod bind;
mod cli;
mod cutover;
mod dist;
mod external_dns_sandbox;
mod fidelity;
mod hardening;
mod listener_action;
mod messages;
mod migrate;
mod sandbox;
mod semantics;
mod switching;
mod util;
mod via_external_dns;
mod via_listener;
