//! The status page in a real browser: headless Chromium loads `/` from a
//! running three-node cluster, and the DOM it renders must show the three
//! members, the one leader and its term, and the leader changes.
//!
//! Chromium is required: without `/usr/bin/chromium` the test fails and
//! says how to install it (`apt-get install -y chromium`).

#[path = "support/cluster.rs"]
mod cluster;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cluster::{Cluster, put};

const CHROMIUM: &str = "/usr/bin/chromium";

/// How long Chromium may take to load and render the page.
const BROWSER_WITHIN: Duration = Duration::from_secs(90);

/// The page as Chromium rendered it, after a few seconds of virtual time.
fn rendered_dom(url: &str) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "the status page test needs Chromium at {CHROMIUM}; install it with \
         `sudo apt-get update && sudo apt-get install -y chromium` (Debian's package)"
    );
    let profile = tempfile::tempdir().unwrap();
    let output_file = profile.path().join("dom.html");
    let output = std::fs::File::create(&output_file).unwrap();
    let mut browser = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=4000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().join("profile").display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + BROWSER_WITHIN;
    loop {
        if let Some(status) = browser.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if Instant::now() >= deadline {
            let _ = browser.kill();
            let _ = browser.wait();
            panic!("chromium did not render {url} within {BROWSER_WITHIN:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(output_file).unwrap()
}

/// The text between `start` and the next `<` after it, e.g. an element's
/// text after its opening tag.
fn text_after<'a>(dom: &'a str, start: &str) -> &'a str {
    let from =
        dom.find(start).unwrap_or_else(|| panic!("no {start:?} in the page:\n{dom}")) + start.len();
    let rest = &dom[from..];
    &rest[..rest.find('<').unwrap_or(rest.len())]
}

#[test]
fn the_status_page_shows_three_members_one_leader_and_its_term() {
    let cluster = Cluster::start(3, &[]);
    let leader = cluster.wait_for_leader(&[0, 1, 2]);
    for n in 0..20 {
        let answer = put(&cluster.url(leader), &format!("page-{n}"), "v", None).unwrap();
        assert_eq!(answer.status, 200);
    }
    let term = cluster.status(leader).unwrap()["term"].as_u64().unwrap();
    // Any node serves the page; ask a follower.
    let follower = (leader + 1) % 3;
    let dom = rendered_dom(&format!("{}/", cluster.url(follower)));

    assert!(dom.contains(r#"<body data-state="ready">"#), "the page rendered an answer:\n{dom}");
    assert_eq!(dom.matches(r#"class="member""#).count(), 3, "three member rows:\n{dom}");
    assert_eq!(dom.matches(r#"data-role="leader"><td>"#).count(), 1, "one leader row:\n{dom}");
    assert_eq!(dom.matches(r#"data-role="follower"><td>"#).count(), 2, "two follower rows:\n{dom}");
    let leader_row =
        format!(r#"data-id="{}" data-reachable="true" data-role="leader""#, leader + 1);
    assert!(dom.contains(&leader_row), "node {} is the leader row:\n{dom}", leader + 1);
    assert_eq!(text_after(&dom, r#"<b id="leader">"#), format!("node {}", leader + 1));
    assert_eq!(text_after(&dom, r#"<b id="term">"#), term.to_string());
    assert_eq!(dom.matches(r#"class="peer""#).count(), 2, "the leader's two followers:\n{dom}");
    let change = format!(": node {} (term {term})", leader + 1);
    assert!(dom.contains(&change), "the leader change is listed:\n{dom}");
    let throughput = text_after(&dom, r#"<b id="throughput">"#);
    assert!(throughput.parse::<u64>().is_ok(), "a throughput figure, not {throughput:?}");
}
