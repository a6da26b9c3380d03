//! Unit tests of the visualization policy and file name.

use super::*;

#[test]
fn the_policy_follows_the_lab_values() {
    let read = |value: Option<&str>| VisualizationPolicy::from_value(value.map(OsString::from));
    assert_eq!(read(None), Ok(VisualizationPolicy::OnFailure));
    assert_eq!(read(Some("")), Ok(VisualizationPolicy::OnFailure));
    assert_eq!(read(Some("never")), Ok(VisualizationPolicy::Never));
    assert_eq!(read(Some("always")), Ok(VisualizationPolicy::Always));
    let error = read(Some("yes")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "VIS_ENABLE is \"yes\"; expected \"never\", \"always\", or unset"
    );
}

#[test]
fn on_failure_writes_only_for_illegal_histories() {
    use CheckResult::{Illegal, Ok, Unknown};
    let writes = |policy: VisualizationPolicy| {
        [Ok, Illegal, Unknown].map(|result| policy.should_write(result))
    };
    assert_eq!(writes(VisualizationPolicy::Never), [false, false, false]);
    assert_eq!(writes(VisualizationPolicy::OnFailure), [false, true, false]);
    assert_eq!(writes(VisualizationPolicy::Always), [true, true, true]);
}

#[test]
fn the_file_is_the_variable_or_a_random_temporary_name() {
    let directory = Path::new("scratch");
    assert_eq!(
        path_from(Some(OsString::from("out.html")), directory, 1),
        PathBuf::from("out.html")
    );
    assert_eq!(
        path_from(Some(OsString::new()), directory, 0xab),
        directory.join("porcupine-00000000000000ab.html")
    );
    assert_ne!(path_from(None, directory, 1), path_from(None, directory, 2));
}
