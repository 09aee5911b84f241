//! The admin commands of the server binary, run as an operator would.

use std::process::Command;

fn gatehouse(data_dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(args).env("APP_DATA_DIR", data_dir).env("RUST_LOG", "warn").env_remove("DATABASE_URL");
    // The commands run on the embedded database; their SQL is the services' (tested on both).
    let out = cmd.output().expect("run gatehouse");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn an_operator_creates_a_superuser_an_organization_and_an_invite_then_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, out) = gatehouse(
        d,
        &[
            "create-user",
            "--email",
            "Admin@Example.com",
            "--name",
            "Admin",
            "--password",
            "vivid-harbor-lantern-42",
            "--superuser",
        ],
    );
    assert!(ok && out.contains("created user 1 (admin@example.com), superuser"), "{out}");
    let (ok, out) = gatehouse(
        d,
        &["create-user", "--email", "admin@example.com", "--name", "Again", "--password", "vivid-harbor-lantern-42"],
    );
    assert!(!ok && out.contains("already registered"), "{out}");
    let (ok, out) =
        gatehouse(d, &["create-user", "--email", "weak@example.com", "--name", "Weak", "--password", "123"]);
    assert!(!ok && out.contains("too short"), "{out}");
    let (ok, out) = gatehouse(d, &["create-org", "--name", "Acme Corp", "--owner", "admin@example.com"]);
    assert!(ok && out.contains("created organization acme-corp"), "{out}");
    let (ok, out) =
        gatehouse(d, &["invite", "--org", "acme-corp", "--email", "new@example.com", "--inviter", "admin@example.com"]);
    assert!(ok && out.contains("/accept/2/"), "{out}");
    assert_eq!(std::fs::read_dir(d.join("mail")).unwrap().count(), 1, "the invite email was written");
    let (ok, out) = gatehouse(d, &["cleanup-invites", "--days", "0"]);
    assert!(ok && out.contains("deleted 0 expired invite(s)"), "{out}");
}
