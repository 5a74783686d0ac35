//! moto (the AWS mock) in a child process, started from `moto/launcher.py`.
//!
//! Python: `NLB_SANDBOX_PYTHON` if set (must be able to `import moto`);
//! otherwise a venv at `NLB_SANDBOX_VENV`, or by default
//! `$HOME/.cache/kubectl-nlb/moto-venv-<hash of requirements.txt>`, created
//! on first use (`python3 -m venv` + `pip install -r requirements.txt`) under
//! a lock file so concurrent test processes do not race.

use crate::Error;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::OnceCell;

/// The pinned requirements (also decides the venv directory name).
pub const REQUIREMENTS: &str = include_str!("../moto/requirements.txt");
/// The launcher script, written into each sandbox's state dir.
pub const LAUNCHER: &str = include_str!("../moto/launcher.py");

static PYTHON: OnceCell<PathBuf> = OnceCell::const_new();

/// The venv directory that `ensure_python` uses when `NLB_SANDBOX_PYTHON` is unset.
pub fn default_venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NLB_SANDBOX_VENV") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("kubectl-nlb").join(format!(
        "moto-venv-{}",
        crate::hash::hex(&[REQUIREMENTS], 10)
    ))
}

/// Find or create a Python that can `import moto`; returns its path.
/// Process-wide: computed once.
pub async fn ensure_python() -> Result<PathBuf, Error> {
    PYTHON
        .get_or_try_init(|| async {
            tokio::task::spawn_blocking(ensure_python_blocking)
                .await
                .map_err(|e| Error::Moto(format!("venv setup task failed: {e}")))?
        })
        .await
        .cloned()
}

fn can_import_moto(python: &Path) -> bool {
    std::process::Command::new(python)
        .args(["-c", "import moto.server, werkzeug"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ensure_python_blocking() -> Result<PathBuf, Error> {
    if let Some(p) = std::env::var_os("NLB_SANDBOX_PYTHON") {
        let p = PathBuf::from(p);
        if can_import_moto(&p) {
            return Ok(p);
        }
        return Err(Error::Moto(format!(
            "NLB_SANDBOX_PYTHON={} cannot `import moto`; run `{} -m pip install -r tests/sandbox/moto/requirements.txt` or unset NLB_SANDBOX_PYTHON to let the sandbox create a venv",
            p.display(),
            p.display()
        )));
    }
    let dir = default_venv_dir();
    let python = dir.join("bin").join("python");
    if can_import_moto(&python) {
        return Ok(python);
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Moto(format!("creating {}: {e}", parent.display())))?;
    }
    let lock_path = dir.with_extension("lock");
    let _lock = FileLock::acquire(&lock_path, Duration::from_secs(600))?;
    // another process may have finished while we waited
    if can_import_moto(&python) {
        return Ok(python);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let base = find_python3()?;
    run(
        std::process::Command::new(&base)
            .args(["-m", "venv"])
            .arg(&dir),
        "creating the moto venv",
    )?;
    let req = dir.join("requirements.txt");
    std::fs::write(&req, REQUIREMENTS)
        .map_err(|e| Error::Moto(format!("writing {}: {e}", req.display())))?;
    run(
        std::process::Command::new(dir.join("bin").join("pip"))
            .args(["install", "-q", "-r"])
            .arg(&req),
        "installing moto into the venv (needs network access to PyPI or a wheel cache via PIP_FIND_LINKS)",
    )?;
    if can_import_moto(&python) {
        Ok(python)
    } else {
        Err(Error::Moto(format!(
            "{} still cannot `import moto` after installing {}; delete {} and retry, or set NLB_SANDBOX_PYTHON",
            python.display(),
            req.display(),
            dir.display()
        )))
    }
}

fn find_python3() -> Result<PathBuf, Error> {
    for cand in ["python3", "python"] {
        let ok = std::process::Command::new(cand)
            .args([
                "-c",
                "import sys, venv; sys.exit(0 if sys.version_info >= (3, 9) else 1)",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(PathBuf::from(cand));
        }
    }
    Err(Error::Moto(
        "python3 (>= 3.9, with the venv module) not found on PATH; install Python 3.11 with pip and venv, or set NLB_SANDBOX_PYTHON to a python that has `moto[server]` installed".into(),
    ))
}

fn run(cmd: &mut std::process::Command, what: &str) -> Result<(), Error> {
    let out = cmd
        .output()
        .map_err(|e| Error::Moto(format!("{what}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::Moto(format!(
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )))
}

/// A create-exclusive lock file, removed on drop. A lock older than 15
/// minutes is considered stale and taken over.
struct FileLock {
    path: PathBuf,
}

impl FileLock {
    fn acquire(path: &Path, wait: Duration) -> Result<FileLock, Error> {
        let start = Instant::now();
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(FileLock {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > Duration::from_secs(900));
                    if stale {
                        let _ = std::fs::remove_file(path);
                        continue;
                    }
                    if start.elapsed() > wait {
                        return Err(Error::Moto(format!(
                            "timed out waiting for {} (another process is creating the moto venv; remove the file if it is stale)",
                            path.display()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => {
                    return Err(Error::Moto(format!(
                        "creating lock {}: {e}",
                        path.display()
                    )));
                }
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A running moto server. Dropping it kills the process.
pub struct Moto {
    child: tokio::process::Child,
    _stdin: Option<tokio::process::ChildStdin>,
    endpoint: String,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

impl Moto {
    /// Start moto from the launcher, writing the script and its log into `state_dir`.
    pub async fn start(state_dir: &Path) -> Result<Moto, Error> {
        let python = ensure_python().await?;
        let launcher = state_dir.join("moto_launcher.py");
        std::fs::write(&launcher, LAUNCHER)
            .map_err(|e| Error::Moto(format!("writing {}: {e}", launcher.display())))?;
        let log_path = state_dir.join("moto.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|e| Error::Moto(format!("creating {}: {e}", log_path.display())))?;
        let mut child = tokio::process::Command::new(&python)
            .arg(&launcher)
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::Moto(format!("starting {}: {e}", python.display())))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Error::Moto("moto stdout not captured".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(p) = line.trim().strip_prefix("PORT=") {
                    return p.parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(port) = port else {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(Error::Moto(format!(
                "moto launcher did not report its port within 60 s; log {}:\n{}",
                log_path.display(),
                log.lines()
                    .rev()
                    .take(20)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            )));
        };
        // keep draining stdout so the child never blocks on a full pipe
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let moto = Moto {
            child,
            _stdin: stdin,
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match moto.call("GET", "/moto-api/", None).await {
                Ok(_) => break,
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        Ok(moto)
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A plain HTTP/1.1 request to moto (used for `/_sandbox/*` and `/moto-api/*`).
    /// Returns the body on 2xx.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<String, Error> {
        http_call(self.port, method, path, body).await
    }
}

/// Minimal HTTP/1.1 client over one connection (`Connection: close`).
/// Returns the body on 2xx, an error otherwise.
pub(crate) async fn http_call(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<String, Error> {
    let (code, body) = http_raw(port, method, path, body).await?;
    if (200..300).contains(&code) {
        Ok(body)
    } else {
        Err(Error::Moto(format!("{method} {path}: HTTP {code}: {body}")))
    }
}

/// Minimal HTTP/1.1 request to 127.0.0.1:`port`; returns (status, body).
pub async fn http_raw(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), Error> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| Error::Moto(format!("connecting to 127.0.0.1:{port}: {e}")))?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| Error::Moto(format!("writing to 127.0.0.1:{port}: {e}")))?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)
        .await
        .map_err(|e| Error::Moto(format!("reading from 127.0.0.1:{port}: {e}")))?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let code: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok((code, body))
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}
