//! Progress on standard error: a spinner per step with its wall time (flow and sweep).

use indicatif::{ProgressBar, ProgressStyle};
use std::time::{Duration, Instant};

/// One step (of the flow or a sweep) with a spinner and its wall time.
struct Stage {
    bar: ProgressBar,
    start: Instant,
}

/// Shows the pipeline's steps as spinners, each replaced by its one-line result.
#[derive(Default)]
pub(crate) struct Spinners {
    current: Option<Stage>,
}

impl crate::pipeline::Progress for Spinners {
    fn begin(&mut self, n: usize, total: usize, what: &str) {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{prefix}] {msg} ({elapsed})")
                .expect("static template"),
        );
        bar.set_prefix(format!("{n}/{total}"));
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.current = Some(Stage {
            bar,
            start: Instant::now(),
        });
    }
    fn done(&mut self, result: &str) {
        if let Some(st) = self.current.take() {
            st.bar.finish_and_clear();
            errln!(
                "  [{}] {} ({:.1} s)",
                st.bar.prefix(),
                result,
                st.start.elapsed().as_secs_f64()
            );
        }
    }
    fn line(&mut self, text: &str) {
        errln!("{text}");
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        // A step that failed leaves no spinner behind the error message.
        if let Some(st) = self.current.take() {
            st.bar.finish_and_clear();
        }
    }
}
