fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let f = vulnmail::report::extract::extract(&vulnmail::report::extract::Input {
        text: &text,
        subject: Some("x"),
        received_at: None,
        text_attachments: &[],
    });
    println!("{}", serde_json::to_string_pretty(&f).unwrap());
}
