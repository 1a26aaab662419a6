//! A small but real SMTP server on 127.0.0.1 for the digest tests: EHLO/HELO, MAIL, RCPT, DATA
//! with dot-unstuffing, RSET, NOOP, QUIT, AUTH PLAIN (credentials recorded); it can be told to
//! answer 451 after DATA or 550 to RCPT, to take its time before accepting the data, or to go
//! silent after the data.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// `451` after the data: a temporary failure; nothing is kept.
    TempFailData,
    /// `550` to every RCPT: a permanent refusal.
    RejectRcpt,
    /// Accepts, but only this long after the data ended.
    SlowData(std::time::Duration),
    /// Reads the data, then never answers (the connection stays open).
    SilentAfterData,
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    received: Vec<Received>,
    /// DATA transactions completed by the client, accepted or not.
    data_attempts: usize,
    /// `user:password` of each AUTH PLAIN.
    logins: Vec<String>,
}

pub struct SmtpSink {
    pub port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    pub async fn start(mode: Mode) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            mode: Some(mode),
            ..State::default()
        }));
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(session(sock, st.clone()));
            }
        });
        SmtpSink { port, state, task }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn data_attempts(&self) -> usize {
        self.state.lock().unwrap().data_attempts
    }

    pub fn logins(&self) -> Vec<String> {
        self.state.lock().unwrap().logins.clone()
    }
}

fn mode(st: &Arc<Mutex<State>>) -> Mode {
    st.lock().unwrap().mode.unwrap_or(Mode::Accept)
}

fn angle(arg: &str) -> String {
    let a = arg.split_once(':').map_or(arg, |(_, r)| r).trim();
    let a = a.split_whitespace().next().unwrap_or("");
    a.trim_start_matches('<').trim_end_matches('>').to_string()
}

async fn session(sock: tokio::net::TcpStream, st: Arc<Mutex<State>>) {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    let say = async |w: &mut tokio::net::tcp::OwnedWriteHalf, s: &str| {
        w.write_all(s.as_bytes()).await.is_ok()
    };
    if !say(&mut w, "220 sink.test ESMTP test sink\r\n").await {
        return;
    }
    let (mut from, mut to): (Option<String>, Vec<String>) = (None, Vec::new());
    let mut line = Vec::new();
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let verb = text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" => {
                "250-sink.test greets you\r\n250-8BITMIME\r\n250-AUTH PLAIN\r\n250 SMTPUTF8\r\n"
                    .to_string()
            }
            "AUTH" => {
                let mut words = text.split_whitespace().skip(1);
                match (
                    words.next().map(str::to_ascii_uppercase).as_deref(),
                    words.next(),
                ) {
                    (Some("PLAIN"), Some(b64)) => match base64_decode(b64) {
                        Some(raw) => {
                            // authzid \0 authcid \0 password
                            let parts: Vec<String> = raw
                                .split(|b| *b == 0)
                                .map(|p| String::from_utf8_lossy(p).into_owned())
                                .collect();
                            if parts.len() == 3 {
                                st.lock()
                                    .unwrap()
                                    .logins
                                    .push(format!("{}:{}", parts[1], parts[2]));
                                "235 2.7.0 authenticated\r\n".into()
                            } else {
                                "501 5.5.2 bad PLAIN response\r\n".into()
                            }
                        }
                        None => "501 5.5.2 bad base64\r\n".into(),
                    },
                    _ => "504 5.5.4 only AUTH PLAIN with an initial response\r\n".into(),
                }
            }
            "HELO" => "250 sink.test\r\n".into(),
            "MAIL" => {
                from = Some(angle(&text));
                to.clear();
                "250 2.1.0 ok\r\n".into()
            }
            "RCPT" if from.is_none() => "503 5.5.1 MAIL first\r\n".into(),
            "RCPT" if mode(&st) == Mode::RejectRcpt => "550 5.1.1 no such user here\r\n".into(),
            "RCPT" => {
                to.push(angle(&text));
                "250 2.1.5 ok\r\n".into()
            }
            "DATA" if to.is_empty() => "503 5.5.1 RCPT first\r\n".into(),
            "DATA" => {
                if !say(&mut w, "354 end data with <CR><LF>.<CR><LF>\r\n").await {
                    return;
                }
                let mut data = Vec::new();
                loop {
                    line.clear();
                    match r.read_until(b'\n', &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    // dot-unstuffing: a line starting with "." was sent with one more
                    let body = if line.starts_with(b"..") {
                        &line[1..]
                    } else {
                        &line[..]
                    };
                    data.extend_from_slice(body);
                }
                let m = {
                    let mut s = st.lock().unwrap();
                    s.data_attempts += 1;
                    s.mode.unwrap_or(Mode::Accept)
                };
                match m {
                    Mode::SilentAfterData => loop {
                        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                    },
                    Mode::SlowData(d) => tokio::time::sleep(d).await,
                    _ => {}
                }
                let accepted = matches!(m, Mode::Accept | Mode::SlowData(_));
                if accepted {
                    st.lock().unwrap().received.push(Received {
                        from: from.clone().unwrap_or_default(),
                        to: to.clone(),
                        data,
                    });
                }
                from = None;
                to.clear();
                if accepted {
                    "250 2.0.0 queued\r\n".into()
                } else {
                    "451 4.3.0 try again later\r\n".into()
                }
            }
            "RSET" => {
                from = None;
                to.clear();
                "250 2.0.0 ok\r\n".into()
            }
            "NOOP" => "250 2.0.0 ok\r\n".into(),
            "QUIT" => {
                let _ = say(&mut w, "221 2.0.0 bye\r\n").await;
                return;
            }
            _ => "502 5.5.2 command not recognised\r\n".into(),
        };
        if !say(&mut w, &reply).await {
            return;
        }
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.trim_end_matches('=').bytes() {
        acc = (acc << 6) | ABC.iter().position(|&x| x == c)? as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Talks to the sink by hand: dot-unstuffing, RSET and the failure modes, without lettre.
#[tokio::test]
async fn the_sink_speaks_smtp() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let s = tokio::net::TcpStream::connect(("127.0.0.1", sink.port))
        .await
        .unwrap();
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    let mut read = async || {
        let mut out = String::new();
        loop {
            let mut l = String::new();
            r.read_line(&mut l).await.unwrap();
            out.push_str(&l);
            if l.as_bytes().get(3) != Some(&b'-') {
                return out;
            }
        }
    };
    assert!(read().await.starts_with("220"));
    for (cmd, want) in [
        ("HELO me\r\n", "250"),
        // "\0user\0pa ss"
        ("AUTH PLAIN AHVzZXIAcGEgc3M=\r\n", "235"),
        ("MAIL FROM:<a@x.test>\r\n", "250"),
        ("RSET\r\n", "250"),
        ("RCPT TO:<b@x.test>\r\n", "503"),
        ("MAIL FROM:<a@x.test> BODY=8BITMIME\r\n", "250"),
        ("RCPT TO:<b@x.test>\r\n", "250"),
        ("DATA\r\n", "354"),
        ("Subject: t\r\n\r\n..leading dot\r\nend\r\n.\r\n", "250"),
        ("QUIT\r\n", "221"),
    ] {
        w.write_all(cmd.as_bytes()).await.unwrap();
        let got = read().await;
        assert!(got.starts_with(want), "{cmd:?} → {got:?}");
    }
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].from.as_str(), got[0].to.clone()),
        ("a@x.test", vec!["b@x.test".to_string()])
    );
    assert_eq!(got[0].data, b"Subject: t\r\n\r\n.leading dot\r\nend\r\n");
}
