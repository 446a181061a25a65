//! Demo petitioners: Chinese names, mobile and landline numbers, resident ID numbers with a
//! valid GB 11643 check digit, and addresses.

use crate::topics::Speaker;
use crate::vocab::{DISTRICTS, ROADS, STREETS, pick, pick_weighted};
use rand::Rng;
use serde::Serialize;
use xinfang_core::petitioner::gb11643_check_char;

/// One person behind a demo matter. Phone and ID numbers are in canonical form and parse with
/// `PhoneNumber::parse` and `IdDocument::parse(DocumentKind::ResidentId, …)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoPetitioner {
    /// Full name (surname + given name).
    pub name: String,
    /// A mainland mobile (`1[3-9]` + 9 digits) or a landline such as `0871-6543210`.
    pub phone: Option<String>,
    /// An 18-character resident ID number.
    pub id_number: Option<String>,
    /// A postal address.
    pub address: Option<String>,
}

/// Surnames with rough relative frequencies.
const SURNAMES: &[(&str, f64)] = &[
    ("王", 7.1),
    ("李", 7.0),
    ("张", 6.8),
    ("刘", 5.4),
    ("陈", 4.5),
    ("杨", 3.1),
    ("赵", 2.3),
    ("黄", 2.2),
    ("周", 2.1),
    ("吴", 2.0),
    ("徐", 1.7),
    ("孙", 1.5),
    ("胡", 1.3),
    ("朱", 1.3),
    ("高", 1.3),
    ("林", 1.2),
    ("何", 1.2),
    ("郭", 1.2),
    ("马", 1.1),
    ("罗", 0.9),
    ("梁", 0.9),
    ("宋", 0.9),
    ("郑", 0.8),
    ("谢", 0.8),
    ("韩", 0.7),
    ("唐", 0.7),
    ("冯", 0.7),
    ("于", 0.6),
    ("董", 0.6),
    ("萧", 0.3),
    ("程", 0.6),
    ("曹", 0.6),
    ("袁", 0.5),
    ("邓", 0.5),
    ("许", 0.5),
    ("傅", 0.5),
    ("沈", 0.5),
    ("曾", 0.5),
    ("彭", 0.5),
    ("吕", 0.5),
    ("苏", 0.5),
    ("卢", 0.5),
    ("蒋", 0.5),
    ("蔡", 0.5),
    ("贾", 0.4),
    ("丁", 0.4),
    ("魏", 0.4),
    ("薛", 0.4),
    ("叶", 0.4),
    ("阎", 0.3),
    ("余", 0.4),
    ("潘", 0.4),
    ("杜", 0.4),
    ("戴", 0.3),
    ("夏", 0.3),
    ("钟", 0.3),
    ("汪", 0.3),
    ("田", 0.3),
    ("任", 0.3),
    ("姜", 0.3),
    ("范", 0.3),
    ("方", 0.3),
    ("石", 0.3),
    ("姚", 0.3),
    ("谭", 0.3),
    ("廖", 0.3),
    ("邹", 0.3),
    ("熊", 0.3),
    ("金", 0.3),
    ("陆", 0.3),
    ("郝", 0.3),
    ("孔", 0.3),
    ("白", 0.3),
    ("崔", 0.3),
    ("康", 0.2),
    ("毛", 0.2),
    ("邱", 0.2),
    ("秦", 0.2),
    ("江", 0.2),
    ("史", 0.2),
    ("顾", 0.2),
    ("侯", 0.2),
    ("邵", 0.2),
    ("孟", 0.2),
    ("龙", 0.2),
    ("万", 0.2),
    ("段", 0.2),
    ("普", 0.1),
    ("钱", 0.2),
    ("汤", 0.2),
    ("尹", 0.2),
    ("黎", 0.2),
    ("易", 0.2),
    ("常", 0.2),
    ("武", 0.2),
    ("乔", 0.2),
    ("贺", 0.2),
    ("赖", 0.2),
    ("龚", 0.2),
    ("文", 0.2),
    ("欧阳", 0.05),
    ("诸葛", 0.01),
    ("和", 0.1),
    ("字", 0.05),
];

const MALE_CHARS: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫",
    "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "洋", "亮", "成", "建", "国",
    "志", "文", "德", "春", "海", "云", "江", "东", "兴", "永", "学", "忠", "荣", "祥", "福", "贵", "昌",
    "安", "毅", "晨", "泽", "博", "睿", "子", "轩", "天",
];

const FEMALE_CHARS: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "燕", "红", "英", "梅", "兰", "琳", "萍",
    "洁", "婷", "雪", "慧", "莉", "倩", "颖", "佳", "琴", "云", "莹", "晶", "丹", "蓉", "欣", "悦", "怡",
    "雯", "璐", "梦", "瑶", "思", "雨", "诗", "月", "春", "桂", "凤", "珍", "美", "晓",
];

/// Region codes (first six digits): local districts first, then other provinces' capitals.
const LOCAL_REGIONS: &[&str] = &[
    "530111", "530112", "530102", "530103", "530113", "530114", "530124", "530181",
];
const OTHER_REGIONS: &[&str] = &[
    "530302", "532301", "530402", "532901", "110105", "310104", "440106", "510107", "500103", "420106",
    "430104", "330106", "320102", "610113", "520102", "450103", "370102", "410105", "130102", "140105",
    "350203", "360102", "210102", "230103",
];

const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184",
    "185", "186", "187", "188", "189", "191", "198", "199",
];

/// A generated person: the petitioner and whether the name is a man's (for 先生/女士).
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub petitioner: DemoPetitioner,
    pub male: bool,
}

impl Person {
    /// The surname (one or two characters).
    pub fn surname(&self) -> &str {
        let n = &self.petitioner.name;
        SURNAMES
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| s.chars().count() == 2)
            .find(|s| n.starts_with(s))
            .unwrap_or_else(|| n.char_indices().nth(1).map_or(n.as_str(), |(i, _)| &n[..i]))
    }

    /// 先生 or 女士.
    pub fn honorific(&self) -> &'static str {
        if self.male { "先生" } else { "女士" }
    }
}

/// A random full name.
pub(crate) fn name<R: Rng + ?Sized>(rng: &mut R, male: bool) -> String {
    let weights: Vec<f64> = SURNAMES.iter().map(|(_, w)| *w).collect();
    let surname = SURNAMES[pick_weighted(rng, &weights)].0;
    let chars = if male { MALE_CHARS } else { FEMALE_CHARS };
    let mut n = String::from(surname);
    n.push_str(pick(rng, chars));
    if rng.random_bool(0.72) {
        n.push_str(pick(rng, chars));
    }
    n
}

/// A random mobile number `1[3-9]xxxxxxxxx`.
pub(crate) fn mobile<R: Rng + ?Sized>(rng: &mut R) -> String {
    format!(
        "{}{:08}",
        pick(rng, MOBILE_PREFIXES),
        rng.random_range(0..100_000_000u32)
    )
}

/// A random local landline `0871-xxxxxxx` (subscriber number not starting with 0).
pub(crate) fn landline<R: Rng + ?Sized>(rng: &mut R) -> String {
    format!("0871-{}", rng.random_range(5_000_000..9_000_000u32))
}

/// A resident ID number with a plausible region, a birth date in 1950–2004, a sequence whose
/// parity matches the sex and the GB 11643 check character.
pub(crate) fn resident_id<R: Rng + ?Sized>(rng: &mut R, local: bool, male: bool) -> Option<String> {
    let region = if local || rng.random_bool(0.45) {
        pick(rng, LOCAL_REGIONS)
    } else {
        pick(rng, OTHER_REGIONS)
    };
    let year = rng.random_range(1950..=2004u32);
    let month = rng.random_range(1..=12u32);
    let day = rng.random_range(1..=28u32);
    let mut seq = rng.random_range(0..1000u32);
    if (seq % 2 == 1) != male {
        seq = (seq + 1) % 1000;
        if (seq % 2 == 1) != male {
            seq = 1;
        }
    }
    let body = format!("{region}{year:04}{month:02}{day:02}{seq:03}");
    let check = gb11643_check_char(&body)?;
    Some(format!("{body}{check}"))
}

/// An address fitting the speaker: villagers live in the villages near the runway, others in
/// the city.
pub(crate) fn address<R: Rng + ?Sized>(rng: &mut R, speaker: Speaker, village: &str) -> String {
    match speaker {
        Speaker::Resident => format!(
            "空港经济区{}{}{}组{}号",
            pick(rng, STREETS),
            village,
            rng.random_range(1..=12),
            rng.random_range(1..=160)
        ),
        Speaker::Worker if rng.random_bool(0.6) => format!(
            "{}{}{}村{}号",
            pick(
                rng,
                &["四川省", "贵州省", "云南省昭通市", "云南省曲靖市", "重庆市"]
            ),
            pick(rng, &["某县", "某镇", "某乡"]),
            pick(rng, &["新华", "红星", "团结", "和平", "向阳"]),
            rng.random_range(1..=99)
        ),
        Speaker::Employee | Speaker::Dispatch if rng.random_bool(0.4) => format!(
            "机场西区员工宿舍{}栋{}室",
            rng.random_range(1..=8),
            rng.random_range(101..=620)
        ),
        _ => format!(
            "{}{}{}号{}栋{}单元{}室",
            pick(rng, DISTRICTS),
            pick(rng, ROADS),
            rng.random_range(1..=400),
            rng.random_range(1..=20),
            rng.random_range(1..=4),
            rng.random_range(101..=2802)
        ),
    }
}

/// Options for one generated person.
pub(crate) struct PersonSpec<'a> {
    pub speaker: Speaker,
    pub village: &'a str,
    pub phone: bool,
    pub id_p: f64,
    pub address_p: f64,
}

/// Generates one person.
pub(crate) fn person<R: Rng + ?Sized>(rng: &mut R, spec: &PersonSpec<'_>) -> Person {
    let male_p = match spec.speaker {
        Speaker::Worker | Speaker::Driver => 0.9,
        Speaker::Resident => 0.6,
        _ => 0.55,
    };
    let male = rng.random_bool(male_p);
    let phone = spec.phone.then(|| {
        let landline_p = if spec.speaker == Speaker::Resident {
            0.12
        } else {
            0.02
        };
        if rng.random_bool(landline_p) {
            landline(rng)
        } else {
            mobile(rng)
        }
    });
    let local = matches!(
        spec.speaker,
        Speaker::Resident | Speaker::Employee | Speaker::Tenant
    );
    let id_number = if rng.random_bool(spec.id_p.clamp(0.0, 1.0)) {
        resident_id(rng, local, male)
    } else {
        None
    };
    let address = rng
        .random_bool(spec.address_p.clamp(0.0, 1.0))
        .then(|| address(rng, spec.speaker, spec.village));
    Person {
        petitioner: DemoPetitioner {
            name: name(rng, male),
            phone,
            id_number,
            address,
        },
        male,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use xinfang_core::petitioner::{DocumentKind, IdDocument, PhoneNumber};

    #[test]
    fn numbers_are_valid() {
        let mut rng = StdRng::seed_from_u64(7);
        for i in 0..2000 {
            let m = mobile(&mut rng);
            assert_eq!(PhoneNumber::parse(&m).map(|p| p.as_str().to_string()), Ok(m));
            let l = landline(&mut rng);
            assert_eq!(PhoneNumber::parse(&l).map(|p| p.as_str().to_string()), Ok(l));
            let id = resident_id(&mut rng, i % 2 == 0, i % 3 == 0).unwrap();
            assert!(IdDocument::parse(DocumentKind::ResidentId, &id).is_ok(), "{id}");
            let sex_digit = id.as_bytes()[16] - b'0';
            assert_eq!(sex_digit % 2 == 1, i % 3 == 0, "{id}");
        }
    }

    #[test]
    fn names_look_chinese() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..500 {
            let n = name(&mut rng, true);
            let len = n.chars().count();
            assert!((2..=4).contains(&len), "{n}");
            let p = Person {
                petitioner: DemoPetitioner {
                    name: n.clone(),
                    phone: None,
                    id_number: None,
                    address: None,
                },
                male: true,
            };
            assert!(n.starts_with(p.surname()));
            assert!(p.surname().chars().count() <= 2);
        }
    }
}
