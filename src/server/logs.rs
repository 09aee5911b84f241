//! The server's log subscriber: `RUST_LOG` filter (default `info`), text or JSON lines
//! (`APP_LOG_FORMAT`), one line per event (SPEC §9.6).
//!
//! Log lines carry text from outside: a provider's `error_description` and error answers,
//! user agents, names. In text logs a line break inside such a value would start a line of
//! its own that reads like a real event ("… INFO signed in through SSO user_id=1"), and a
//! carriage return can hide the start of a line on a terminal. So every event is written
//! through [`OneLine`], which escapes line breaks and other control characters inside the
//! event (`\n`, `\r`, `\u000b`, `\u2028` …), whichever field, span or message they came
//! in. JSON lines (`APP_LOG_FORMAT=json`) escape them by construction, and go through the
//! same writer anyway. ESC (`\x1b`) is left to `tracing-subscriber`, which escapes it in
//! values and uses it for its own colours.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use super::config::LogFormat;

/// The filter of `RUST_LOG`, else `info`.
pub fn env_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The subscriber the server logs through, writing to `writer` (standard output in the
/// server; a buffer in tests, so that they check this very configuration).
pub fn subscriber<W>(format: LogFormat, filter: EnvFilter, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(OneLine(writer));
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
    }
}

/// Installs [`subscriber`] on standard output for the whole process (once; later calls
/// change nothing).
pub fn init(format: LogFormat) {
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = subscriber(format, env_filter(), std::io::stdout).try_init();
}

/// A writer factory that keeps each event on one line: the formatter hands over an event
/// as one write ending in its newline; every control character before that newline is
/// escaped, except the tab and ESC.
pub struct OneLine<M>(pub M);

impl<'w, M: MakeWriter<'w>> MakeWriter<'w> for OneLine<M> {
    type Writer = OneLineWriter<M::Writer>;

    fn make_writer(&'w self) -> Self::Writer {
        OneLineWriter(self.0.make_writer())
    }

    fn make_writer_for(&'w self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        OneLineWriter(self.0.make_writer_for(meta))
    }
}

/// See [`OneLine`].
pub struct OneLineWriter<W>(W);

impl<W: std::io::Write> std::io::Write for OneLineWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (body, end) = match buf.strip_suffix(b"\n") {
            Some(body) => (body, &b"\n"[..]),
            None => (buf, &b""[..]),
        };
        let mut out = escape_controls(body);
        out.extend_from_slice(end);
        self.0.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// `bytes` with ASCII control characters (but tab and ESC), DEL, NEL and the Unicode line
/// and paragraph separators written as escapes. The escapes (`\n`, `\r`, `\u000b`,
/// `\u2028`) are JSON's, so a JSON line stays valid JSON. Works on bytes, so it cannot split
/// a UTF-8 sequence: every byte it replaces is ASCII or a whole separator sequence.
fn escape_controls(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'\n', ..) => out.extend_from_slice(b"\\n"),
            (b'\r', ..) => out.extend_from_slice(b"\\r"),
            (b'\t' | 0x1b, ..) => out.push(b),
            (0x00..=0x1f | 0x7f, ..) => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            // U+0085 (NEL) is C2 85; U+2028 and U+2029 are E2 80 A8 / E2 80 A9.
            (0xc2, Some(0x85), _) => {
                out.extend_from_slice(b"\\u0085");
                i += 1;
            }
            (0xe2, Some(0x80), Some(&third @ (0xa8 | 0xa9))) => {
                out.extend_from_slice(if third == 0xa8 { b"\\u2028" } else { b"\\u2029" });
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Capture {
        type Writer = Capture;
        fn make_writer(&'w self) -> Capture {
            self.clone()
        }
    }

    /// Logs two events carrying text from outside the way the server does (a provider's
    /// `error_description`, a user agent, a name) and returns the lines written.
    fn lines_of_two_events(format: LogFormat) -> Vec<String> {
        let capture = Capture::default();
        let subscriber = subscriber(format, EnvFilter::new("info"), capture.clone());
        let forged = "denied\n2030-01-01T00:00:00.000000Z  INFO signed in through SSO user_id=1 org_id=1";
        tracing::subscriber::with_default(subscriber, || {
            let agent = "curl/8\r\nINFO fake line\u{2028}another";
            let span = tracing::info_span!("request", user_agent = %agent);
            let _entered = span.enter();
            tracing::warn!(error = %forged, name = forged, "SSO callback refused: {forged}");
            tracing::info!(user_agent = agent, "second event");
        });
        let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        out.split_inclusive('\n').map(str::to_owned).collect()
    }

    #[test]
    fn control_characters_inside_an_event_are_escaped_and_its_own_newline_is_kept() {
        let mut out = Vec::new();
        let mut writer = OneLineWriter(&mut out);
        std::io::Write::write_all(&mut writer, "a\nb\r\tc\x0b\x1b[1md\u{85}e\u{2028}f\u{2029}g é\n".as_bytes())
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\\nb\\r\tc\\u000b\x1b[1md\\u0085e\\u2028f\\u2029g é\n");
    }

    #[test]
    fn text_from_outside_cannot_start_a_log_line_of_its_own_in_text_logs() {
        let lines = lines_of_two_events(LogFormat::Text);
        assert_eq!(lines.len(), 2, "one line per event: {lines:#?}");
        assert!(
            lines.iter().all(|l| l.ends_with('\n') && !l[..l.len() - 1].contains(['\n', '\r', '\u{2028}'])),
            "{lines:#?}"
        );
        assert!(
            lines[0].contains("SSO callback refused") && lines[0].contains("signed in through SSO"),
            "the text is kept, escaped: {}",
            lines[0]
        );
        assert!(lines[1].contains("second event"));
    }

    #[test]
    fn text_from_outside_cannot_start_a_log_line_of_its_own_in_json_logs() {
        let lines = lines_of_two_events(LogFormat::Json);
        assert_eq!(lines.len(), 2, "one line per event: {lines:#?}");
        for line in &lines {
            let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(event["message"].is_string(), "{event}");
        }
        let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert!(first["error"].as_str().unwrap().contains("\n2030"), "the text is kept, escaped: {first}");
        assert_eq!(first["span"]["user_agent"], "curl/8\r\nINFO fake line\u{2028}another", "{first}");
    }
}
