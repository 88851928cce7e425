use super::*;

fn refused(b: &[u8]) -> Refusal {
    sniff(b).expect_err("refused")
}

#[test]
fn the_three_accepted_types_are_recognised_from_their_bytes() {
    assert_eq!(sniff(&samples::pdf()), Ok(FileType::Pdf));
    assert_eq!(sniff(&samples::png()), Ok(FileType::Png));
    assert_eq!(sniff(&samples::jpeg()), Ok(FileType::Jpeg));
    assert_eq!(FileType::Png.mime(), "image/png");
    assert_eq!(FileType::from_mime("application/pdf"), Some(FileType::Pdf));
    assert_eq!(FileType::from_mime("text/html"), None);
}

#[test]
fn executables_are_refused_whatever_they_are_called() {
    let mut pe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec();
    pe.extend_from_slice(&[0; 100]);
    pe.extend_from_slice(b"This program cannot be run in DOS mode.");
    // An .exe renamed "don.pdf": the name plays no part.
    assert_eq!(refused(&pe), Refusal::Executable("Windows .exe/.dll"));
    assert_eq!(refused(&pe).code(), "executable");
    assert!(refused(&pe).message_vi().contains("chương trình"));
    let elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00";
    assert_eq!(refused(elf), Refusal::Executable("ELF"));
    assert_eq!(
        refused(b"#!/bin/sh\nrm -rf /\n"),
        Refusal::Executable("script")
    );
}

#[test]
fn archives_are_refused() {
    // A real (empty) ZIP: the end-of-central-directory record alone.
    let zip = b"PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    assert_eq!(refused(zip), Refusal::Archive("ZIP"));
    let mut docx = b"PK\x03\x04\x14\x00\x06\x00".to_vec();
    docx.extend_from_slice(b"[Content_Types].xml");
    assert_eq!(refused(&docx).code(), "archive");
    assert_eq!(
        refused(b"\x1f\x8b\x08\x00\x00\x00\x00\x00"),
        Refusal::Archive("gzip")
    );
    assert_eq!(refused(b"Rar!\x1a\x07\x01\x00"), Refusal::Archive("RAR"));
    let mut tar = vec![0u8; 512];
    tar[..8].copy_from_slice(b"don.pdf\0");
    tar[257..262].copy_from_slice(b"ustar");
    assert_eq!(refused(&tar), Refusal::Archive("tar"));
}

#[test]
fn html_svg_and_text_are_refused() {
    assert_eq!(
        refused(b"<!DOCTYPE html><script>alert(1)</script>"),
        Refusal::Markup
    );
    assert_eq!(
        refused(b"\xef\xbb\xbf  \n<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        Refusal::Markup
    );
    assert_eq!(refused(b"<?xml version='1.0'?><a/>"), Refusal::Markup);
    assert_eq!(refused(b"just some text"), Refusal::Unsupported);
    // GIF and legacy Word: not accepted either.
    assert_eq!(refused(b"GIF89a\x01\x00\x01\x00"), Refusal::Unsupported);
    assert_eq!(
        refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        Refusal::Unsupported
    );
}

#[test]
fn empty_files_are_refused() {
    assert_eq!(refused(b""), Refusal::Empty);
    assert!(Refusal::Empty.message_vi().contains("rỗng"));
}

#[test]
fn truncated_or_corrupt_files_are_refused() {
    let pdf = samples::pdf();
    // Cut before the end: no %%EOF.
    let r = refused(&pdf[..pdf.len() - 10]);
    assert!(
        matches!(
            r,
            Refusal::Corrupt {
                claimed: FileType::Pdf,
                ..
            }
        ),
        "{r:?}"
    );
    assert!(r.message_vi().contains("bị hỏng"));
    assert_eq!(
        refused(b"%PDF-x.y\n%%EOF"),
        Refusal::Corrupt {
            claimed: FileType::Pdf,
            what: "no version after %PDF-"
        }
    );
    // %%EOF far from the end (a PDF header glued onto something else).
    let mut glued = pdf.clone();
    glued.extend_from_slice(&[b'A'; 4096]);
    assert_eq!(refused(&glued).code(), "corrupt");

    let png = samples::png();
    assert_eq!(refused(&png[..png.len() - 12]).code(), "corrupt");
    let mut bad_crc = png.clone();
    bad_crc[19] ^= 0xFF; // a byte of the width: the header checksum no longer matches
    assert_eq!(
        refused(&bad_crc),
        Refusal::Corrupt {
            claimed: FileType::Png,
            what: "header checksum mismatch"
        }
    );
    assert_eq!(refused(&png[..20]).code(), "corrupt");

    let jpeg = samples::jpeg();
    assert_eq!(refused(&jpeg[..jpeg.len() - 2]).code(), "corrupt");
    assert_eq!(refused(&jpeg[..30]).code(), "corrupt");
    assert_eq!(refused(b"\xff\xd8\xff").code(), "corrupt");
    // A scan without a frame header.
    let mut no_frame = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02];
    no_frame.extend_from_slice(&[0x00, 0xFF, 0xD9]);
    assert_eq!(refused(&no_frame).code(), "corrupt");
}

#[test]
fn sizes_read_well() {
    assert_eq!(human_size(10 << 20), "10 MiB");
    assert_eq!(human_size(1536 * 1024), "1.5 MiB");
    assert_eq!(human_size(2048), "2 KiB");
    assert!(
        Refusal::TooLarge { limit: 10 << 20 }
            .message_vi()
            .contains("10 MiB")
    );
}

#[test]
fn keys_are_sha256_hex_with_a_prefix() {
    let k = FileKey::of(b"abc");
    assert_eq!(
        k.hex(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(k.reference(), format!("sha256:{}", k.hex()));
    assert_eq!(k.object_path(), format!("sha256/ba/{}", k.hex()));
    assert_eq!(FileKey::parse_ref(&k.reference()), Some(k.clone()));
    assert_eq!(FileKey::parse_any(&k.hex().to_uppercase()), Some(k.clone()));
    assert_eq!(
        FileKey::parse_ref(k.hex()),
        None,
        "documents need the prefix"
    );
    assert_eq!(FileKey::parse_any("sha256:xyz"), None);
    assert_eq!(FileKey::parse_any("../../etc/passwd"), None);
    assert_eq!(FileKey::parse_any(&format!("{}0", k.hex())), None);
    let json = serde_json::to_string(&k).unwrap();
    assert_eq!(json, format!("\"sha256:{}\"", k.hex()));
    assert!(serde_json::from_str::<FileKey>("\"blob/don\"").is_err());
}

#[test]
fn display_names_are_safe() {
    use FileType::*;
    assert_eq!(display_name("Đơn đề nghị.pdf", Pdf), "Đơn đề nghị.pdf");
    assert_eq!(
        display_name("C:\\Users\\an\\Giấy tờ\\CCCD.JPG", Jpeg),
        "CCCD.JPG"
    );
    assert_eq!(display_name("../../etc/passwd", Pdf), "passwd.pdf");
    assert_eq!(display_name("a\u{0}b\r\nc\t.png", Png), "ab c.png");
    // Right-to-left override (U+202E): "don" + RLO + "fdp.exe" would read "donexe.pdf".
    assert_eq!(display_name("don\u{202E}fdp.exe", Pdf), "donfdp.exe.pdf");
    // A real PNG called .pdf is shown with its real extension.
    assert_eq!(display_name("scan.pdf", Png), "scan.pdf.png");
    assert_eq!(display_name("", Pdf), "tai-lieu.pdf");
    assert_eq!(display_name("....", Pdf), "tai-lieu.pdf");
    assert_eq!(display_name(".pdf", Pdf), "pdf.pdf", "no hidden names");
    assert_eq!(display_name("a<b>:\"c\"|?*.pdf", Pdf), "a_b___c____.pdf");
    let long = format!("{}.pdf", "ắ".repeat(500));
    let n = display_name(&long, Pdf);
    assert_eq!(n.chars().count(), MAX_NAME_CHARS);
    assert!(n.ends_with(".pdf"));
    // Decomposed Vietnamese is composed (NFC).
    assert_eq!(display_name("Tie\u{0302}\u{0301}n.pdf", Pdf), "Tiến.pdf");
}

#[test]
fn attachment_kinds_round_trip() {
    for k in [
        AttachmentKind::Component,
        AttachmentKind::Result,
        AttachmentKind::Supplement,
        AttachmentKind::Attachment,
    ] {
        assert_eq!(AttachmentKind::parse(k.as_str()), Some(k));
        assert!(!k.label_vi().is_empty());
    }
    assert_eq!(AttachmentKind::parse("other"), None);
    assert_eq!(VaultKind::parse("result"), Some(VaultKind::Result));
    assert_eq!(VaultKind::parse("x"), None);
}

#[test]
fn crc32_matches_the_standard_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}
