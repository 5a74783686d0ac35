//! Self-tests of the nlb-sandbox crate (tests/sandbox): the Kubernetes HTTP
//! server, moto with its middleware, the seeded world and the LBC stand-in.

use nlb_sandbox::{Sandbox, SandboxOptions};

async fn start() -> Sandbox {
    Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_smoke() {
    let t = std::time::Instant::now();
    let sb = start().await;
    eprintln!("start took {:?}", t.elapsed());
    eprintln!("{:#?}", sb.world());
}
