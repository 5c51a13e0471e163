//! A submission whose answer is lost (the node closed the connection before answering) still
//! ends with the transaction's receipt: the client sends it again, takes the node's "already"
//! for what it is, and waits for the receipt by hash.

use serde_json::{json, Value};
use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
};
use vellum_client::Client;
use vellum_types::{public_key, Action, Transaction};

/// Read one HTTP request from `stream`: its JSON body.
fn request(stream: &mut TcpStream) -> Option<Value> {
    let mut buffer = Vec::new();
    let mut byte = [0u8; 1];
    while !buffer.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        buffer.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buffer).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))?
        .trim()
        .parse()
        .ok()?;
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// A node that drops the first submission's connection unanswered (after the transaction
/// arrived), refuses the resend as already pending, and has the receipt; `methods` records
/// what was called.
fn flaky_node(methods: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let methods = methods.clone();
            std::thread::spawn(move || {
                while let Some(call) = request(&mut stream) {
                    let method = call["method"].as_str().unwrap_or_default().to_string();
                    methods.lock().expect("lock").push(method.clone());
                    let reply = match method.as_str() {
                        "vellum_chainId" => json!({"result": "lost"}),
                        "vellum_sendRawTransactionAndWait" => return, // closed, unanswered
                        "vellum_sendRawTransaction" => json!({"error": {
                            "code": -32010, "message": "Transaction rejected",
                            "data": "transaction 0x… is already pending"}}),
                        _ => json!({"result": {"status": "success"}}),
                    };
                    let mut reply = reply;
                    reply["jsonrpc"] = json!("2.0");
                    reply["id"] = call["id"].clone();
                    let body = reply.to_string();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn a_submission_whose_answer_is_lost_still_ends_with_its_receipt() {
    let methods = Arc::new(Mutex::new(Vec::new()));
    let client = Client::connect(&flaky_node(methods.clone()))
        .await
        .expect("connect");
    let key = k256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("key");
    let transaction = Transaction {
        chain_id: "lost".into(),
        sender: public_key(&key),
        nonce: 0,
        fuel_limit: 1_000_000,
        action: Action::Call {
            contract: [1; 32],
            method: "ping".into(),
            args: "{}".into(),
        },
    }
    .sign(&key);
    let receipt = client
        .submit_and_wait(&transaction)
        .await
        .expect("the receipt, although the first answer was lost");
    assert_eq!(receipt["status"], "success");
    let methods = methods.lock().expect("lock").clone();
    assert_eq!(
        &methods[methods.len() - 3..],
        [
            "vellum_sendRawTransactionAndWait",
            "vellum_sendRawTransaction",
            "vellum_getTransactionReceipt"
        ],
        "{methods:?}"
    );
}
