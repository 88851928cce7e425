//! Demo queue set-up: five service groups and their counters at the provincial centre and at the
//! demo commune's one-stop desk. Added only when missing, like the rest of the seed.

use super::codes;
use anyhow::Context;
use motcua_domain::codes::AgencyCode;
use motcua_domain::queue::{Counter, ServiceGroup, validate_setup};
use motcua_store::Store;

/// The five demo groups (A-E) and the procedure fields each covers.
pub fn groups() -> Vec<ServiceGroup> {
    let g = |code: &str, prefix: char, vi: &str, en: &str, fields: &[&str]| ServiceGroup {
        code: code.into(),
        prefix,
        name_vi: vi.into(),
        name_en: en.into(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
    };
    vec![
        g(
            "tu-phap-ho-tich",
            'A',
            "Tư pháp - Hộ tịch",
            "Justice - Civil status",
            &[
                "Hộ tịch",
                "Chứng thực",
                "Nuôi con nuôi",
                "Luật sư",
                "Công chứng",
                "Hòa giải ở cơ sở",
                "Trợ giúp pháp lý",
            ],
        ),
        g(
            "dat-dai-xay-dung",
            'B',
            "Đất đai - Xây dựng",
            "Land - Construction",
            &[
                "Đất đai",
                "Hoạt động xây dựng",
                "Nhà ở và công sở",
                "Hạ tầng kỹ thuật",
                "Kinh doanh bất động sản",
            ],
        ),
        g(
            "kinh-doanh-dau-tu",
            'C',
            "Kinh doanh - Đầu tư",
            "Business - Investment",
            &[
                "Thành lập và hoạt động của doanh nghiệp",
                "Thành lập và hoạt động của tổ hợp tác, hợp tác xã, liên hiệp hợp tác xã",
                "Đầu tư tại Việt nam",
                "Hỗ trợ doanh nghiệp nhỏ và vừa",
            ],
        ),
        g(
            "lao-dong-xa-hoi-y-te",
            'D',
            "Lao động - Xã hội - Y tế",
            "Labour - Social affairs - Health",
            &[
                "Chính sách",
                "Thực hiện chính sách BHXH",
                "Thực hiện chính sách BHYT",
                "Kiểm định kỹ thuật an toàn lao động",
            ],
        ),
        g("khac", 'E', "Lĩnh vực khác", "Other services", &[]),
    ]
}

fn counters(groups: &[(u16, &[&str])]) -> Vec<Counter> {
    groups
        .iter()
        .map(|(n, gs)| Counter {
            number: *n,
            name: format!("Quầy {n}"),
            groups: gs.iter().map(|g| g.to_string()).collect(),
        })
        .collect()
}

/// Counters of a centre: six at the provincial centre, four at the commune.
pub fn setup(centre: &str) -> Vec<Counter> {
    const A: &str = "tu-phap-ho-tich";
    const B: &str = "dat-dai-xay-dung";
    const C: &str = "kinh-doanh-dau-tu";
    const D: &str = "lao-dong-xa-hoi-y-te";
    const E: &str = "khac";
    if centre == codes::CENTRE {
        counters(&[
            (1, &[A]),
            (2, &[A, E]),
            (3, &[B]),
            (4, &[B, E]),
            (5, &[C]),
            (6, &[D, E]),
        ])
    } else {
        counters(&[(1, &[A]), (2, &[A, D]), (3, &[B, C]), (4, &[B, C, D, E])])
    }
}

/// Adds the demo groups and counters where missing; returns how many rows were added.
pub async fn seed(store: &Store) -> anyhow::Result<u64> {
    let mut added = 0;
    for centre in [codes::CENTRE, codes::COMMUNE] {
        let (groups, counters) = (groups(), setup(centre));
        validate_setup(&groups, &counters).context("demo queue set-up")?;
        let code: AgencyCode = centre.parse().context("demo centre code")?;
        added += store
            .add_queue_setup(&code, groups, counters)
            .await
            .with_context(|| format!("seeding the queue of {centre}"))?;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_set_up_is_valid_and_every_group_has_a_counter() {
        for centre in [codes::CENTRE, codes::COMMUNE] {
            let (g, c) = (groups(), setup(centre));
            validate_setup(&g, &c).unwrap();
            assert!((4..=6).contains(&c.len()));
            for grp in &g {
                assert!(
                    c.iter().any(|k| k.groups.contains(&grp.code)),
                    "{centre}: nobody calls {}",
                    grp.code
                );
            }
        }
    }

    #[tokio::test]
    async fn seeding_twice_adds_nothing_the_second_time() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        assert_eq!(seed(&store).await.unwrap(), 2 * 5 + 6 + 4);
        assert_eq!(seed(&store).await.unwrap(), 0);
        let centre: AgencyCode = codes::CENTRE.parse().unwrap();
        assert_eq!(store.queue_counters(&centre).await.unwrap().len(), 6);
        assert_eq!(store.queue_groups(&centre).await.unwrap()[0].prefix, 'A');
    }
}
