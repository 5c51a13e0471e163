//! Each committed artifact describes itself: its `vellum:interface` custom section is the JSON the
//! SDK generated for the contract, and every method it lists is exported as an entry point.

use vellum_sdk::Contract;
use vellum_tests::{artifact, custom_section};

fn check<C: Contract>(name: &str) {
    let wasm = std::fs::read(artifact(name)).expect("artifact is committed");
    let section = custom_section(&wasm, "vellum:interface").expect("interface section present");
    assert_eq!(
        String::from_utf8(section).expect("UTF-8"),
        C::INTERFACE,
        "{name}"
    );

    let interface: serde_json::Value =
        serde_json::from_str(C::INTERFACE).expect("interface is JSON");
    let exports: Vec<String> = wasmparser::Parser::new(0)
        .parse_all(&wasm)
        .filter_map(Result::ok)
        .filter_map(|payload| match payload {
            wasmparser::Payload::ExportSection(reader) => Some(reader),
            _ => None,
        })
        .flat_map(|reader| {
            reader
                .into_iter()
                .filter_map(Result::ok)
                .map(|e| e.name.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for method in interface["methods"].as_array().expect("methods") {
        let entry_point = method["entry_point"].as_str().expect("entry point");
        assert!(
            exports.iter().any(|e| e == entry_point),
            "{name}: {entry_point} not exported"
        );
    }
    assert!(
        exports.iter().any(|e| e == "instantiate"),
        "{name}: instantiate not exported"
    );
}

#[test]
fn every_artifact_carries_its_interface_and_exports_it() {
    check::<vellum_points::Points>("points");
    check::<vellum_ballot::Ballot>("ballot");
    check::<vellum_notary::Notary>("notary");
    check::<vellum_trace::Trace>("trace");
    check::<vellum_escrow::Escrow>("escrow");
}
