//! `nlb-sandbox`: an EKS-like cluster on loopback for tests of `kubectl-nlb`.
//!
//! * Kubernetes: kube-fake-client served over HTTP by [`kube_server`]
//!   (discovery, namespaces, paging, dryRun; see that module for the list);
//! * AWS: moto in a child process ([`moto`]), with request counting, fault
//!   injection and target-health overrides;
//! * a seeded world ([`world`]): nodes/instances, legacy in-tree NLBs built
//!   by [`intree`], LBC NLBs built by the [`lbc`] stand-in, Route 53 records;
//! * the LBC stand-in, run on demand ([`Sandbox::reconcile`]) or in the
//!   background.
//!
//! Every `Sandbox` is independent: its own moto process, HTTP port and state
//! directory. Dropping it stops both servers and removes a temporary state dir.

pub mod apiserver;
pub mod aws;
pub mod crd;
pub mod external_dns;
pub mod external_dns_plan;
pub mod finalizer;
pub mod hash;
pub mod intree;
pub mod json;
pub mod kube_server;
pub mod lbc;
pub mod lbc_config;
pub mod listener_action;
pub mod model;
pub mod moto;
pub mod networking;
pub mod table;
pub mod world;

pub use crd::{ServiceReference, TargetGroupBinding, TargetGroupBindingSpec};
pub use external_dns::{ExternalDns, ExternalDnsOptions, SyncReport};
pub use lbc::{Lbc, ReconcileReport};
pub use world::{Controller, NodeInfo, ServiceInfo, SubnetInfo, World};

use k8s_openapi::api::core::v1::Service;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Errors of the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("moto: {0}")]
    Moto(String),
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("kube-fake-client: {0}")]
    Fake(String),
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("AWS {op}: {message}")]
    Aws { op: &'static str, message: String },
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// How to start a sandbox.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// Seed the world (default true). Without it: VPC + subnets, namespaces
    /// `default` and `kube-system`, nothing else.
    pub seed: bool,
    /// LBC version to "install" (default `Some("v2.13.3")`); `None` = no LBC
    /// Deployment and the stand-in does nothing.
    pub lbc_version: Option<String>,
    /// Extra args of the LBC Deployment, e.g. `--load-balancer-class=example.com/nlb`
    /// or `--feature-gates=NLBSecurityGroup=false`; the stand-in reads them.
    pub lbc_args: Vec<String>,
    /// Seed the `aws-node` DaemonSet (default true).
    pub vpc_cni: bool,
    /// Run the LBC stand-in every 250 ms in the background (default false;
    /// call [`Sandbox::reconcile`] instead for deterministic tests).
    pub lbc_background: bool,
    /// Where to put the kubeconfig, logs and env.sh (default: a fresh temp
    /// dir, removed on drop).
    pub state_dir: Option<PathBuf>,
    /// external-dns to "install" (default `None`: no Deployment, the
    /// stand-in does nothing); see [`external_dns`].
    pub external_dns: Option<ExternalDnsOptions>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            seed: true,
            lbc_version: Some(world::DEFAULT_LBC_VERSION.to_string()),
            lbc_args: Vec::new(),
            vpc_cni: true,
            lbc_background: false,
            state_dir: None,
            external_dns: None,
        }
    }
}

/// A running sandbox.
pub struct Sandbox {
    state_dir: PathBuf,
    remove_state_dir: bool,
    kubeconfig: PathBuf,
    server: kube_server::KubeServer,
    moto: moto::Moto,
    fake: kube::Client,
    kube: kube::Client,
    aws_config: aws_config::SdkConfig,
    internal_aws: aws::AwsClients,
    world: World,
    lbc: Arc<Lbc>,
    external_dns: Arc<ExternalDns>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for bg in self.background.drain(..) {
            bg.abort();
        }
        if self.remove_state_dir {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn fresh_temp_dir() -> Result<PathBuf, Error> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "nlb-sandbox-{}-{}-{nanos:x}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Install the aws-lc-rs rustls provider (kube and the AWS SDK both link rustls).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

impl Sandbox {
    /// Start moto and the Kubernetes server, seed, and (optionally) start the
    /// LBC stand-in in the background.
    pub async fn start(opts: SandboxOptions) -> Result<Sandbox, Error> {
        install_crypto_provider();
        let (state_dir, remove_state_dir) = match &opts.state_dir {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                (d.clone(), false)
            }
            None => (fresh_temp_dir()?, true),
        };
        let moto = moto::Moto::start(&state_dir).await?;
        let fake = kube_fake_client::ClientBuilder::new()
            .with_resource::<TargetGroupBinding>()
            .with_status_subresource::<k8s_openapi::api::core::v1::Service>()
            .with_status_subresource::<TargetGroupBinding>()
            .build()
            .await
            .map_err(|e| Error::Fake(e.to_string()))?;
        // Everyone reaches the fake through kube-apiserver's write semantics.
        let fake = apiserver::client(fake);
        let internal_cfg = aws::sdk_config(
            moto.endpoint(),
            world::REGION,
            aws::INTERNAL_ACCESS_KEY,
            "sandbox-internal-secret",
        );
        let internal_aws = aws::AwsClients::new(&internal_cfg);
        let lbc = Arc::new(Lbc::new(
            fake.clone(),
            internal_aws.clone(),
            world::CLUSTER_NAME,
            "",
            Vec::new(),
            opts.lbc_version.is_some(),
        ));
        lbc.set_moto_port(moto.port());
        let (world, namespaces) = world::seed(
            &internal_aws,
            &fake,
            &lbc,
            &world::SeedOptions {
                seed: opts.seed,
                lbc_version: opts.lbc_version.clone(),
                lbc_args: opts.lbc_args.clone(),
                vpc_cni: opts.vpc_cni,
            },
        )
        .await?;
        let server =
            kube_server::KubeServer::start(fake.clone(), namespaces, opts.lbc_version.is_some())
                .await?;
        let kubeconfig = state_dir.join("kubeconfig");
        std::fs::write(&kubeconfig, server.kubeconfig_yaml())?;
        let kube = kube_client_from(&kubeconfig).await?;
        let aws_config = aws::sdk_config(moto.endpoint(), world::REGION, "testing", "testing");
        if let Some(edns) = &opts.external_dns {
            world::create::<k8s_openapi::api::apps::v1::Deployment>(&fake, edns.deployment())
                .await?;
        }
        let external_dns = Arc::new(ExternalDns::new(fake.clone(), internal_aws.clone()));
        let mut sb = Sandbox {
            state_dir,
            remove_state_dir,
            kubeconfig,
            server,
            moto,
            fake,
            kube,
            aws_config,
            internal_aws,
            world,
            lbc,
            external_dns,
            background: Vec::new(),
        };
        std::fs::write(sb.state_dir.join("env.sh"), sb.env_script())?;
        if opts.lbc_background {
            sb.background
                .push(sb.lbc.spawn_background(Duration::from_millis(250)));
        }
        if let Some(every) = opts.external_dns.as_ref().and_then(|e| e.interval) {
            sb.background.push(sb.external_dns.spawn_background(every));
        }
        sb.settle_targets().await?;
        sb.server.reset_requests();
        Ok(sb)
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// `http://127.0.0.1:PORT` of moto.
    pub fn aws_endpoint(&self) -> &str {
        self.moto.endpoint()
    }

    /// `http://127.0.0.1:PORT` of the Kubernetes API server.
    pub fn kube_url(&self) -> String {
        self.server.url()
    }

    pub fn region(&self) -> &str {
        world::REGION
    }

    pub fn cluster_name(&self) -> &str {
        world::CLUSTER_NAME
    }

    /// Environment for a process that should talk to this sandbox.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("KUBECONFIG".into(), self.kubeconfig.display().to_string()),
            ("AWS_ENDPOINT_URL".into(), self.aws_endpoint().to_string()),
            ("AWS_REGION".into(), world::REGION.into()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ]
    }

    /// `export KEY='VALUE'` lines for [`Sandbox::env`].
    pub fn env_script(&self) -> String {
        self.env()
            .iter()
            .map(|(k, v)| format!("export {k}='{}'\n", v.replace('\'', "'\\''")))
            .collect()
    }

    /// A raw HTTP/1.1 request to the Kubernetes server (e.g. discovery
    /// paths); returns (status, body). Counted like any other request.
    pub async fn kube_raw(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&str>,
    ) -> Result<(u16, String), Error> {
        moto::http_raw(self.server.port(), method, path_and_query, body).await
    }

    /// A kube client that talks to the HTTP server (its requests are counted).
    pub fn kube_client(&self) -> kube::Client {
        self.kube.clone()
    }

    /// The fake itself, bypassing HTTP (not counted; namespaces are not
    /// addressable through it; label selectors with spaces need `%20`).
    pub fn fake_client(&self) -> kube::Client {
        self.fake.clone()
    }

    /// SDK config for moto with the `testing` credentials (counted, faultable).
    pub fn aws_config(&self) -> &aws_config::SdkConfig {
        &self.aws_config
    }

    /// AWS clients signed with the sandbox's internal key: not counted and
    /// never hit by injected faults. For test set-up and assertions.
    pub fn aws_internal(&self) -> &aws::AwsClients {
        &self.internal_aws
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// The LBC stand-in.
    pub fn lbc(&self) -> &Arc<Lbc> {
        &self.lbc
    }

    /// One LBC stand-in pass.
    pub async fn reconcile(&self) -> Result<(), Error> {
        let report = self.lbc.reconcile_once().await?;
        match report.errors.first() {
            Some(e) => Err(Error::Other(format!("LBC stand-in: {e}"))),
            None => Ok(()),
        }
    }

    /// One LBC stand-in pass, returning what it did.
    pub async fn reconcile_report(&self) -> Result<ReconcileReport, Error> {
        self.lbc.reconcile_once().await
    }

    /// One external-dns stand-in pass, returning the batches it sent and
    /// the errors it met (a refused batch is an error in the report, as
    /// external-dns logs it and carries on).
    pub async fn external_dns_sync(&self) -> Result<SyncReport, Error> {
        self.external_dns.sync_once().await
    }

    /// New LBC Services wait this long before their NLB is created.
    pub fn set_provisioning_delay(&self, d: Duration) {
        self.lbc.set_provisioning_delay(d);
    }

    /// Make DescribeTargetHealth report `state`/`reason` for a target.
    /// `target_id` is the IP or instance id, or `id:port`, for that target in
    /// every target group; or `<target group ARN>/<id>` or
    /// `<target group ARN>/<id>:<port>`, for it in that group only. The most
    /// specific key set wins: `ARN/id:port`, `ARN/id`, `id:port`, `id`.
    ///
    /// The per-group keys are a test knob, not AWS behaviour (AWS has no such
    /// switch): there, one address healthy in one group and not in another
    /// comes e.g. from security-group rules that admit one group's
    /// health-check sources and not the other's
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-register-targets.html#target-security-groups>).
    pub async fn set_target_health(
        &self,
        target_id: &str,
        state: &str,
        reason: &str,
    ) -> Result<(), Error> {
        let body = serde_json::json!({ target_id: {"state": state, "reason": reason} });
        self.moto
            .call("POST", "/_sandbox/target-health", Some(&body.to_string()))
            .await
            .map(|_| ())
    }

    /// How long targets stay `initial` after registration and `draining`
    /// after deregistration (see `moto/launcher.py`, "target lifecycle"):
    /// `scale` sandbox seconds per real second (default 0.01, so a 300 s
    /// deregistration delay drains for 3 s); `initial_checks` health checks
    /// before `healthy` (default: the target group's HealthyThresholdCount).
    pub async fn set_target_lifecycle(
        &self,
        scale: f64,
        initial_checks: Option<u32>,
    ) -> Result<(), Error> {
        let body = serde_json::json!({"scale": scale, "initial_checks": initial_checks});
        self.moto
            .call("POST", "/_sandbox/lifecycle", Some(&body.to_string()))
            .await
            .map(|_| ())
    }

    /// Ages every registration and ends every drain: the seeded world has
    /// been running for a while.
    pub async fn settle_targets(&self) -> Result<(), Error> {
        self.moto
            .call("POST", "/_sandbox/lifecycle", Some(r#"{"settle": true}"#))
            .await
            .map(|_| ())
    }

    pub async fn clear_target_health(&self) -> Result<(), Error> {
        self.moto
            .call("DELETE", "/_sandbox/target-health", None)
            .await
            .map(|_| ())
    }

    /// Requests to the Kubernetes server since start (or the last reset).
    pub fn kube_requests(&self) -> u64 {
        self.server.total_requests()
    }

    /// Requests by `METHOD path`.
    pub fn kube_request_counts(&self) -> Vec<(String, u64)> {
        self.server.request_counts()
    }

    /// Who the Kubernetes requests claimed to be (see
    /// [`kube_server::KubeServer::identities`]).
    pub fn kube_identities(&self) -> Vec<String> {
        self.server.identities()
    }

    pub fn reset_kube_requests(&self) {
        self.server.reset_requests();
    }

    /// AWS requests made with the `testing` credentials, as
    /// (service from the SigV4 scope, e.g. `elasticloadbalancing`/`ec2`/`route53`, action, count).
    pub async fn aws_requests(&self) -> Result<Vec<(String, String, u64)>, Error> {
        let body = self.moto.call("GET", "/_sandbox/requests", None).await?;
        let v: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| Error::Moto(format!("bad /_sandbox/requests answer: {e}")))?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["service"].as_str().unwrap_or_default().to_string(),
                            e["action"].as_str().unwrap_or_default().to_string(),
                            e["count"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The access key ids AWS requests were signed with (not the
    /// sandbox's own), since start or the last reset.
    pub async fn aws_access_keys(&self) -> Result<Vec<String>, Error> {
        let body = self.moto.call("GET", "/_sandbox/access-keys", None).await?;
        serde_json::from_str(&body)
            .map_err(|e| Error::Moto(format!("bad /_sandbox/access-keys answer: {e}")))
    }

    pub async fn reset_aws_requests(&self) -> Result<(), Error> {
        self.moto
            .call("POST", "/_sandbox/requests/reset", None)
            .await
            .map(|_| ())
    }

    /// The next `times` requests for (`service`, `action`) fail with HTTP 400
    /// and error `code`. `service` is the SigV4 name (`elbv2` also accepted
    /// for `elasticloadbalancing`); `action` may be `*`.
    pub async fn inject_aws_fault(
        &self,
        service: &str,
        action: &str,
        code: &str,
        times: u32,
    ) -> Result<(), Error> {
        self.inject_aws_fault_full(service, action, 400, code, "Injected by nlb-sandbox", times)
            .await
    }

    /// [`Sandbox::inject_aws_fault`] with the HTTP status and message chosen.
    pub async fn inject_aws_fault_full(
        &self,
        service: &str,
        action: &str,
        status: u16,
        code: &str,
        message: &str,
        times: u32,
    ) -> Result<(), Error> {
        let body = serde_json::json!([{
            "service": service, "action": action, "status": status,
            "code": code, "message": message, "times": times,
        }]);
        self.moto
            .call("POST", "/_sandbox/faults", Some(&body.to_string()))
            .await
            .map(|_| ())
    }

    pub async fn clear_aws_faults(&self) -> Result<(), Error> {
        self.moto
            .call("DELETE", "/_sandbox/faults", None)
            .await
            .map(|_| ())
    }

    /// Whether a connection from `client_ip` to port `listener_port` of the
    /// NLB `lb_arn` reaches node `instance_id`: the NLB's and the node's
    /// security groups, with the source address the target group's
    /// preserve_client_ip gives it ([`networking::reaches`]).
    pub async fn reaches(
        &self,
        lb_arn: &str,
        listener_port: i32,
        client_ip: &str,
        instance_id: &str,
    ) -> Result<bool, Error> {
        networking::reaches(
            &self.internal_aws,
            lb_arn,
            listener_port,
            client_ip,
            instance_id,
        )
        .await
    }

    /// Creates a Service (through the API server, so node ports are
    /// allocated) and, if it asks for an in-tree NLB
    /// (`aws-load-balancer-type: nlb`), builds it as the cloud provider does.
    pub async fn add_service(&self, svc: serde_json::Value) -> Result<Service, Error> {
        let ns = svc["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let svc: Service =
            serde_json::from_value(svc).map_err(|e| Error::Other(format!("Service: {e}")))?;
        let created = kube::Api::<Service>::namespaced(self.kube.clone(), &ns)
            .create(&Default::default(), &svc)
            .await?;
        if model::ann(&created, "aws-load-balancer-type") == Some("nlb") {
            world::adopt_intree(
                &self.internal_aws,
                &self.fake,
                &self.lbc,
                &self.world.vpc_id,
                &self.world.subnet_ids(),
                &self.world.instance_ids(),
                &created,
            )
            .await?;
        }
        Ok(created)
    }

    /// Add `services` LoadBalancer Services across 20 namespaces and `pods`
    /// pods, and their NLBs (see [`world::seed_scale`]).
    pub async fn seed_scale(&self, services: usize, pods: usize) -> Result<(), Error> {
        world::seed_scale(
            &self.internal_aws,
            &self.fake,
            &self.server,
            &self.lbc,
            &self.world,
            services,
            pods,
        )
        .await?;
        self.settle_targets().await
    }
}

/// A kube client from a kubeconfig file (what the product does with `--kubeconfig`).
pub async fn kube_client_from(kubeconfig: &Path) -> Result<kube::Client, Error> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig)
        .map_err(|e| Error::Kubeconfig(e.to_string()))?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(|e| Error::Kubeconfig(e.to_string()))?;
    Ok(kube::Client::try_from(cfg)?)
}
