//! The terminal: colour, progress on stderr, and rendering to any writer.
//!
//! Decided once at start-up from the flags and the environment, so the rest of
//! the program never asks whether it runs on a terminal.

pub mod render;

use crate::cli::ColorWhen;
use dialoguer::console::Term;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// Colour on stdout.
    pub color: bool,
    /// stderr is a terminal: progress can be drawn.
    pub stderr_tty: bool,
}

impl Ui {
    pub fn detect(when: ColorWhen) -> Ui {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match when {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => !no_color && std::io::stdout().is_terminal(),
        };
        Ui {
            color,
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }

    /// A spinner on stderr; invisible when stderr is not a terminal.
    pub fn spinner(&self, message: &str) -> Progress {
        let bar = if self.stderr_tty {
            let bar = ProgressBar::with_draw_target(None, stderr_target());
            // `wide_msg`: cut to the width, never wrapped.
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed}] {wide_msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(message.to_string());
        Progress { bar }
    }
}

impl Ui {
    /// Refuses up front when no one could answer a prompt and --yes is absent,
    /// so a script gets one error line rather than a plan and then a refusal.
    pub fn check_confirmable(&self, yes: bool) -> Result<(), crate::error::Error> {
        if yes || self.interactive() {
            Ok(())
        } else {
            Err(crate::error::Error::Invalid(
                "not a terminal, so no one can confirm the changes: review them with --dry-run=client, then pass --yes".into(),
            ))
        }
    }

    /// Asks on the terminal; without one, refuses unless the caller passed --yes.
    pub fn confirm(&self, prompt: &str, yes: bool) -> Result<(), crate::error::Error> {
        use crate::error::Error;
        if yes {
            return Ok(());
        }
        self.check_confirmable(yes)?;
        if self.prompt(prompt)? {
            Ok(())
        } else {
            Err(Error::Aborted("aborted: nothing was changed".into()))
        }
    }

    /// Asks a yes/no question on the terminal (default no). Without a
    /// terminal the answer is no: an optional change is never made unasked.
    pub fn ask(&self, prompt: &str) -> Result<bool, crate::error::Error> {
        if !self.interactive() {
            return Ok(false);
        }
        self.prompt(prompt)
    }

    /// Someone can answer a prompt: stdin and stderr are terminals.
    fn interactive(&self) -> bool {
        self.stderr_tty && std::io::stdin().is_terminal()
    }

    /// A yes/no question on stderr, default no.
    fn prompt(&self, prompt: &str) -> Result<bool, crate::error::Error> {
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(false)
            .interact_on(&dialoguer::console::Term::stderr())
            .map_err(|e| crate::error::Error::Invalid(format!("reading the answer: {e}")))
    }

    /// A bar on stderr counting toward `total`; invisible when stderr is not
    /// a terminal; cleared when dropped, as a spinner is.
    pub fn bar(&self, total: u64, message: &str) -> Progress {
        let bar = if self.stderr_tty {
            let bar = ProgressBar::with_draw_target(Some(total), stderr_target());
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} [{elapsed}] {wide_msg}")
            {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(message.to_string());
        Progress { bar }
    }
}

/// stderr, as indicatif draws on it, but three columns narrower than the
/// terminal (qa D-C5). indicatif pads its line to the full width, leaving
/// the cursor in the last column; the `^C` the terminal echoes on Ctrl-C then
/// wraps to the next line, and the clear on drop clears that line instead of
/// the spinner's, which stayed on screen above the error.
fn stderr_target() -> ProgressDrawTarget {
    ProgressDrawTarget::term_like_with_hz(Box::new(Narrower(Term::stderr())), 20)
}

#[derive(Debug)]
struct Narrower(Term);

impl indicatif::TermLike for Narrower {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(3).max(1)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Progress of one long step; cleared when dropped.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn set_message(&self, message: impl Into<String>) {
        let message = message.into();
        tracing::debug!("{message}");
        self.bar.set_message(message);
    }
}

impl Progress {
    pub fn set_position(&self, position: u64) {
        self.bar.set_position(position);
    }

    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Where a mutating command narrates what it did: stdout, until stdout is
/// closed (a pipe into `head`); then stderr, and the command carries on. A
/// switch must never stop half-way, nor exit 0, because its reader left.
#[derive(Debug, Default)]
pub struct Narration {
    to_stderr: bool,
}

impl std::io::Write for Narration {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.to_stderr {
            match std::io::stdout().write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => self.to_stderr = true,
                other => return other,
            }
        }
        std::io::stderr().write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.to_stderr {
            return std::io::stderr().flush();
        }
        match std::io::stdout().flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.to_stderr = true;
                Ok(())
            }
            other => other,
        }
    }
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT), or SIGTERM
/// (`timeout`, CI, a pod being stopped), both handled the same way: stop at
/// a safe point and say how to go on (qa D-M13). Names the signal.
pub async fn stop_requested() -> &'static str {
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = term => "terminated (SIGTERM)",
    }
}
