//! Which department a procedure consults, from the free text of `co_quan_phoi_hop`.

use super::agencies::Dept;
use motcua_domain::text::fold;

/// Whether `co_quan_phoi_hop` names a cooperating body.
pub fn has_cooperation(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && fold(t) != "khong co thong tin"
}

/// Keyword groups, each with the department it points to, matched on folded text.
const COOPERATION_KEYWORDS: [(&[&str], Dept); 5] = [
    (&["thue", "tai chinh"], Dept::Finance),
    (&["cong an"], Dept::Police),
    (&["xay dung"], Dept::Construction),
    (
        &["tai nguyen", "moi truong", "nong nghiep", "dat dai"],
        Dept::AgriEnv,
    ),
    (&["tu phap"], Dept::Justice),
];

/// Departments named by `co_quan_phoi_hop`, in the order they appear in the text.
pub fn cooperating_departments(text: &str) -> Vec<Dept> {
    let folded = fold(text);
    let mut hits: Vec<(usize, Dept)> = COOPERATION_KEYWORDS
        .iter()
        .filter_map(|(words, dept)| {
            words
                .iter()
                .filter_map(|w| find_word(&folded, w))
                .min()
                .map(|at| (at, *dept))
        })
        .collect();
    hits.sort();
    hits.into_iter().map(|(_, d)| d).collect()
}

/// Finds `word` in `text` at word boundaries ("thue" must not match inside "thuen").
fn find_word(text: &str, word: &str) -> Option<usize> {
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cooperation_keywords() {
        assert!(!has_cooperation("Không có thông tin"));
        assert!(!has_cooperation("  "));
        assert!(has_cooperation("Bộ Công an"));
        assert_eq!(
            cooperating_departments("Công an cấp Xã, Sở Tư pháp Thành phố Hà Nội"),
            vec![Dept::Police, Dept::Justice]
        );
        assert_eq!(
            cooperating_departments("Bộ Công thương, Bộ Tài chính"),
            vec![Dept::Finance]
        );
        assert_eq!(cooperating_departments("Cục Thuế"), vec![Dept::Finance]);
        assert_eq!(cooperating_departments("Tòa án nhân dân khu vực"), vec![]);
    }
}
