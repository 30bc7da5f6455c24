//! The whole pure ingest step on arbitrary bytes: the analysis (limits, MIME,
//! charsets, HTML, TNEF, quotes, signatures, sections, attachments) and the
//! patient data guard over everything it kept. No input may panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qnet_mail::{Limits, Verdicts, analyse_unguarded};

fuzz_target!(|data: &[u8]| {
    let a = analyse_unguarded(data, &Verdicts::default(), &Limits::default());
    let mut texts: Vec<&str> = vec![a.title.as_str(), a.body.as_str()];
    texts.extend(a.sections.texts());
    let _ = qnet_domain::patient_data::scan(&texts);
    // What the analysis promises, whatever the input.
    assert!(a.body.chars().count() <= qnet_domain::case_study::BODY_MAX);
    for att in &a.attachments {
        assert_eq!(att.size as usize, att.bytes.len());
        assert!(att.bytes.len() as u64 <= qnet_domain::attachment::MAX_BYTES);
    }
});
