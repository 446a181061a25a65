//! Building titles, contents and replies from fragments.
//!
//! A matter's [`Ctx`] fixes the things one text must agree on (the terminal, the flight, the
//! village, the day it happened); numbers are drawn afresh at each slot. Contents are stitched
//! from a greeting, a self-introduction, one or more event sentences, background, emotion, a
//! demand and a closing, in the first person for what petitioners write themselves (website,
//! WeChat, letters, e-mail, leader mailbox) and in the third person for what a hotline operator
//! or a clerk records (12345, phone, walk-in).

use crate::people::Person;
use crate::topics::{Audience, Issue, Place, Speaker, Topic};
use crate::vocab::*;
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use rand::Rng;
use xinfang_core::matter::{Channel, PetitionType};

/// Longest title, in characters.
pub(crate) const MAX_TITLE: usize = 60;
/// Shortest and longest content, in characters.
pub(crate) const MIN_CONTENT: usize = 40;
pub(crate) const MAX_CONTENT: usize = 600;

/// How the petitioner sounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Polite,
    Neutral,
    Anxious,
    Angry,
}

/// What one matter's texts agree on.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub event: NaiveDate,
    pub date_phrase: String,
    pub day_phrase: String,
    pub since_phrase: String,
    pub terminal: &'static str,
    pub area: &'static str,
    pub park: &'static str,
    pub spot: &'static str,
    pub village: &'static str,
    pub dir: &'static str,
    pub project: &'static str,
    pub flight: String,
    pub city: &'static str,
    pub gate: String,
    pub counter: String,
    pub bus: String,
    pub district: &'static str,
    pub shop: &'static str,
    pub food: &'static str,
    pub snack: &'static str,
    pub item: &'static str,
    pub liquid: &'static str,
    pub boss: &'static str,
    pub dept: &'static str,
    pub post: &'static str,
    pub part: &'static str,
    pub people: u32,
}

/// `3月12日`, sometimes with the year.
fn day_text(d: NaiveDate, with_year: bool) -> String {
    if with_year {
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    } else {
        format!("{}月{}日", d.month(), d.day())
    }
}

/// `晚上9点左右`, `下午3点半`, `凌晨1点多`.
fn clock_text<R: Rng + ?Sized>(rng: &mut R, h: u32, m: u32) -> String {
    let (period, h12) = match h {
        0 => ("半夜", 12),
        1..=4 => ("凌晨", h),
        5..=7 => ("早上", h),
        8..=11 => ("上午", h),
        12 => ("中午", 12),
        13..=17 => ("下午", h - 12),
        18 => ("傍晚", 6),
        _ => ("晚上", h - 12),
    };
    match rng.random_range(0..6) {
        0 => format!("{period}{h12}点左右"),
        1 => format!("{period}{h12}点多"),
        2 if m >= 30 => format!("{period}{h12}点半左右"),
        3 => format!("{period}{h12}:{m:02}左右"),
        4 => period.to_string(),
        _ => format!("{period}{h12}点{}", if m < 20 { "" } else { "多" }),
    }
}

impl Ctx {
    /// Draws the fixed parts of a matter registered at `registered` (Beijing time).
    pub(crate) fn new<R: Rng + ?Sized>(rng: &mut R, registered: NaiveDateTime, people: u32) -> Self {
        let back = rng.random_range(1..=7u64);
        let event = registered
            .date()
            .checked_sub_days(Days::new(back))
            .unwrap_or(registered.date());
        let hour = *[
            6u32, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 21, 22, 22, 23, 0, 1,
        ]
        .get(rng.random_range(0..22usize))
        .unwrap_or(&9);
        let minute = rng.random_range(0..60u32);
        let weekday = WEEKDAYS
            .get(event.weekday().num_days_from_monday() as usize)
            .copied()
            .unwrap_or("一");
        let date_only = match rng.random_range(0..10) {
            0..=2 => day_text(event, true),
            3 if back == 1 => "昨天".to_string(),
            4 if back == 2 => "前天".to_string(),
            5 => format!("{}（星期{weekday}）", day_text(event, false)),
            _ => day_text(event, false),
        };
        let date_phrase = if rng.random_bool(0.75) {
            format!("{date_only}{}", clock_text(rng, hour, minute))
        } else {
            date_only
        };
        let since_phrase = match rng.random_range(0..6) {
            0 => format!("近{}个月来", rng.random_range(1..=5)),
            1 => format!("从{}月份开始", prev_month(event, rng.random_range(1..=4))),
            2 => "最近一段时间".to_string(),
            3 => format!("今年{}月以来", prev_month(event, rng.random_range(0..=3))),
            4 => "这半年来".to_string(),
            _ => "这段时间以来".to_string(),
        };
        let terminal = pick(rng, TERMINALS);
        Self {
            event,
            date_phrase,
            day_phrase: day_text(event, false),
            since_phrase,
            terminal,
            area: pick(rng, TERMINAL_AREAS),
            park: pick(rng, PARKS),
            spot: pick(rng, TRANSPORT_SPOTS),
            village: pick(rng, VILLAGES),
            dir: pick(rng, DIRECTIONS),
            project: pick(rng, PROJECTS),
            flight: format!("{}{}", pick(rng, AIRLINES), rng.random_range(1001..9899)),
            city: pick(rng, CITIES),
            gate: format!("{}号登机口", rng.random_range(1..=68)),
            counter: format!(
                "{}区值机柜台",
                pick(rng, &["A", "B", "C", "D", "E", "F", "G", "H", "J", "K"])
            ),
            bus: match rng.random_range(0..3) {
                0 => format!("机场大巴{}号线", rng.random_range(1..=9)),
                1 => format!("空港快线{}线", rng.random_range(1..=6)),
                _ => format!("{}方向机场大巴", pick(rng, DISTRICTS)),
            },
            district: pick(rng, DISTRICTS),
            shop: pick(rng, SHOP_KINDS),
            food: pick(rng, FOODS),
            snack: pick(rng, SNACKS),
            item: pick(rng, ITEMS),
            liquid: pick(rng, LIQUIDS),
            boss: pick(rng, BOSSES),
            dept: pick(rng, DEPTS),
            post: pick(rng, POSTS),
            part: pick(rng, BAG_PARTS),
            people,
        }
    }
}

/// The month number `back` months before `d`'s month.
fn prev_month(d: NaiveDate, back: u32) -> u32 {
    (d.month() + 12 - back % 12 - 1) % 12 + 1
}

/// Picks one template of `list` and fills it.
pub(crate) fn fill_pick<R: Rng + ?Sized>(rng: &mut R, list: &[&str], ctx: &Ctx) -> String {
    let tpl = pick(rng, list);
    fill(rng, tpl, ctx)
}

/// Replaces every `{slot}` of `tpl`.
pub(crate) fn fill<R: Rng + ?Sized>(rng: &mut R, tpl: &str, ctx: &Ctx) -> String {
    let mut out = String::with_capacity(tpl.len() + 32);
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        match slot(rng, name, ctx) {
            Some(v) => out.push_str(&v),
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn slot<R: Rng + ?Sized>(rng: &mut R, name: &str, c: &Ctx) -> Option<String> {
    let n = |rng: &mut R, lo: u32, hi: u32| rng.random_range(lo..=hi).to_string();
    Some(match name {
        "date" => c.date_phrase.clone(),
        "day" => c.day_phrase.clone(),
        "since" => c.since_phrase.clone(),
        "t" => c.terminal.to_string(),
        "area" => c.area.to_string(),
        "park" => c.park.to_string(),
        "spot" => c.spot.to_string(),
        "village" => c.village.to_string(),
        "dir" => c.dir.to_string(),
        "project" => c.project.to_string(),
        "flight" => c.flight.clone(),
        "city" => c.city.to_string(),
        "gate" => c.gate.clone(),
        "counter" => c.counter.clone(),
        "bus" => c.bus.clone(),
        "district" => c.district.to_string(),
        "shop" => c.shop.to_string(),
        "food" => c.food.to_string(),
        "snack" => c.snack.to_string(),
        "item" => c.item.to_string(),
        "liquid" => c.liquid.to_string(),
        "boss" => c.boss.to_string(),
        "dept" => c.dept.to_string(),
        "post" => c.post.to_string(),
        "part" => c.part.to_string(),
        "people" => c.people.to_string(),
        "month" => prev_month(c.event, rng.random_range(1..=6)).to_string(),
        "n" => n(rng, 2, 5),
        "tens" => (rng.random_range(2..=9u32) * 10).to_string(),
        "min" => n(rng, 25, 95),
        "min_s" => n(rng, 3, 18),
        "hour" => n(rng, 2, 6),
        "pm" => n(rng, 9, 11),
        "am_s" => n(rng, 1, 4),
        "yuan_s" => n(rng, 5, 60),
        "yuan" => n(rng, 60, 320),
        "yuan_l" => (rng.random_range(5..=60u32) * 100).to_string(),
        "wan" => n(rng, 2, 80),
        "pct" => n(rng, 15, 60),
        "km" => n(rng, 3, 15),
        "km_l" => n(rng, 30, 80),
        "months" => n(rng, 2, 8),
        "years" => n(rng, 2, 16),
        "age" => n(rng, 2, 10),
        "age_mid" => n(rng, 50, 58),
        "age_old" => n(rng, 68, 88),
        "num4" => n(rng, 1000, 9899),
        "bay" => n(rng, 101, 268),
        _ => return None,
    })
}

/// Turns a first-person fragment into the third person of a clerk's record.
pub(crate) fn third_person(s: &str) -> String {
    s.replace("我们村", "其所在村")
        .replace("我们店", "其店")
        .replace("我们部门", "其所在部门")
        .replace("我们班组", "其所在班组")
        .replace("我们是", "其系")
        .replace("我是", "其系")
        .replace("我们的", "他们的")
        .replace("我们", "他们")
        .replace("我家", "其家")
        .replace("我的", "其")
        .replace("本人是", "其系")
        .replace("本人", "其")
        .replace('我', "其")
}

/// Where the matter happened, for the `location` field: the issue's own spot, else a place of
/// the topic's kind.
pub(crate) fn location<R: Rng + ?Sized>(
    rng: &mut R,
    spot: Option<&str>,
    place: Place,
    ctx: &Ctx,
) -> Option<String> {
    if let Some(spot) = spot {
        return (!spot.is_empty()).then(|| fill(rng, spot, ctx));
    }
    let t = ctx.terminal;
    match place {
        Place::Terminal => match rng.random_range(0..10) {
            0..=5 => Some(format!("{t}{}", ctx.area)),
            6..=8 => Some(t.to_string()),
            _ => None,
        },
        Place::Baggage => Some(format!("{t}到达层行李提取厅")),
        Place::Parking => Some(ctx.park.to_string()),
        Place::Transport => Some(if ctx.spot.starts_with("东区") {
            ctx.spot.to_string()
        } else {
            format!("{t}{}", ctx.spot)
        }),
        Place::Community => Some(match rng.random_range(0..3) {
            0 => format!("跑道{}侧{}", ctx.dir, ctx.village),
            _ => ctx.village.to_string(),
        }),
        Place::Worksite => Some(format!("{}工地", ctx.project)),
        Place::Office => {
            let spots: &[&str] = &[
                "集团办公区",
                "西区员工宿舍",
                "东区货运基地",
                "机坪作业区",
                "西区后勤基地",
            ];
            rng.random_bool(0.6).then(|| pick(rng, spots).to_string())
        }
        Place::Airside => Some(match rng.random_range(0..4) {
            0 => "西区机坪".to_string(),
            1 => "东区机坪".to_string(),
            2 => "东区货运站".to_string(),
            _ => format!("{}号机位附近", rng.random_range(101..=268)),
        }),
        Place::Nowhere => None,
    }
}

fn intros(speaker: Speaker, group: bool) -> &'static [&'static str] {
    match (speaker, group) {
        (Speaker::Resident, true) => &[
            "我们是{village}的村民，全村有{tens}多户人家受到影响。",
            "我们是住在机场{dir}边{village}的村民，",
            "我们{village}的村民联名反映一个问题。",
        ],
        (Speaker::Worker, true) => &[
            "我们是在{project}干活的{people}名农民工，",
            "我们是{project}一个劳务班组的工人，一共{people}个人。",
        ],
        (Speaker::Employee, true) => &["我们是集团{post}岗位的{people}名员工，", "我们是一线职工，"],
        (Speaker::Dispatch, true) => &[
            "我们是外包公司派驻机场的员工，",
            "我们是机场的{people}名劳务派遣工，",
        ],
        (Speaker::Tenant, true) => &["我们是{t}的{people}家商户，", "我们是在机场经营多年的一批商户，"],
        (Speaker::Driver, true) => &[
            "我们是在机场营运的出租车司机，",
            "我们是一批长期跑机场的出租车司机，",
        ],
        (Speaker::Passenger, _) => &[
            "我是一名经常往返{city}的旅客。",
            "我是一名外地旅客，",
            "我是带着孩子出行的旅客。",
            "我平时出差比较多，一个月要坐三四次飞机。",
            "本人是机场的常旅客，",
            "我是一名退休教师，",
        ],
        (Speaker::Resident, false) => &[
            "我是机场{dir}边{village}的村民。",
            "我家住在{village}，离跑道不到两公里。",
            "本人是{village}村民，",
            "我是{village}的一名老党员，",
        ],
        (Speaker::Employee, false) => &[
            "我是集团下属单位的一名{post}，",
            "我在机场工作了{years}年，是一名{post}。",
            "本人是集团职工，",
            "我是一名一线员工，",
        ],
        (Speaker::Dispatch, false) => &[
            "我是劳务派遣到机场做{post}的员工，",
            "我是外包公司的员工，在机场做{post}已经{years}年了。",
        ],
        (Speaker::Tenant, false) => &[
            "我在{t}经营一家{shop}，",
            "我是{t}{area}的商户，在机场做了{years}年生意。",
            "本人是机场商户，",
        ],
        (Speaker::Driver, false) => &[
            "我是一名出租车司机，每天在机场排队拉客。",
            "我开出租车{years}年了，主要跑机场。",
            "我在机场跑出租{years}年了，",
        ],
        (Speaker::Worker, false) => &[
            "我是在{project}干活的农民工，",
            "我是{project}一个分包队伍的班组长，",
        ],
        (Speaker::Public, _) => &[
            "我是一名普通市民，",
            "我是附近小区的居民，经常到机场接送家人。",
            "我家里人经常坐飞机，",
            "",
        ],
    }
}

fn inquiry_intros(speaker: Speaker) -> &'static [&'static str] {
    match speaker {
        Speaker::Resident => &["我是{village}的村民，", "我家在{village}，"],
        _ => &[
            "我{day}要坐{flight}去{city}，",
            "我下周要带家人去{city}，",
            "我是第一次来咱们机场，",
            "家里老人过几天要从{t}出发去{city}，",
            "我经常出差，",
            "打扰一下，",
            "我想咨询一个问题，",
            "我在{district}住，",
        ],
    }
}

fn backgrounds(speaker: Speaker) -> &'static [&'static str] {
    match speaker {
        Speaker::Passenger | Speaker::Public => &[
            "这已经是我这个月第{n}次在机场遇到类似的问题了。",
            "当时我还带着{age}岁的孩子和好几件行李。",
            "我当天还要赶去{city}转机，时间非常紧。",
            "机场是城市的窗口，这种问题不应该出现。",
            "同行的还有一位{age_old}岁的老人。",
        ],
        Speaker::Resident => &[
            "我们在这里住了几十年，机场建设我们一直是支持的。",
            "村里大部分是老人和小孩，年轻人都出去打工了。",
            "这个问题村里已经向街道反映过好几次。",
        ],
        Speaker::Employee | Speaker::Dispatch => &[
            "我在这个岗位上干了{years}年，一直兢兢业业。",
            "我们一线员工平时工作量很大，大家也没有怨言。",
            "这个问题班组里很多同事都有意见，只是不敢说。",
        ],
        Speaker::Tenant => &[
            "我们一直按时交租，从来没有拖欠过。",
            "今年客流还没有完全恢复，生意本来就不好做。",
            "店里还有{n}个员工要养活。",
        ],
        Speaker::Driver => &["我们司机都是靠跑机场养家糊口的。", "很多司机都有同样的意见。"],
        Speaker::Worker => &[
            "工友们大多是外地来的，家里老人孩子都等着这笔钱。",
            "我们找过包工头和项目部很多次，都说再等等。",
        ],
    }
}

fn reflections(audience: Audience) -> &'static [&'static str] {
    match audience {
        Audience::Passenger => &[
            "我理解航班保障有一定难度，但基本的服务和告知应该做到位。",
            "机场这几年硬件越来越好，但服务细节跟不上。",
            "当时现场很多旅客都有意见，大家议论纷纷，却找不到能解决问题的人。",
            "事后我查了机场公布的服务承诺，和实际做的差距太大了。",
            "作为经常出行的旅客，我希望机场能真正把“以旅客为中心”落到实处。",
            "我并不是想要什么赔偿，只是希望以后别的旅客不要再遇到同样的事情。",
            "这件事前前后后耽误了我{hour}个多小时。",
        ],
        Audience::Community => &[
            "我们理解机场建设是好事，但不能让周边群众承担所有的代价。",
            "村里已经开过几次会，大家的意见都很大。",
            "村委会也帮我们反映过，但一直没有实质性的进展。",
            "我们要求不高，只希望能按政策办事，给大家一个公平的说法。",
            "家里的老人身体不好，这样下去真的吃不消。",
        ],
        Audience::Staff => &[
            "我们一线员工平时的工作强度很大，希望领导能体谅一下。",
            "我向班组和部门都反映过，得到的答复都是“上面定的”。",
            "我热爱这份工作，也希望单位能给我们一个合理的交代。",
            "我担心反映问题以后会被穿小鞋，希望对我的信息保密。",
            "很多同事也有同样的问题，只是不愿意出面。",
        ],
        Audience::Business => &[
            "我们商户和机场是合作关系，希望能平等协商。",
            "这几年生意越来越难做，很多商户都在亏本经营。",
            "我们也理解机场的经营需要，但规则应该提前公开、一视同仁。",
            "店里还有{n}个员工等着发工资，再这样下去只能关门了。",
        ],
        Audience::Integrity => &[
            "这些情况在单位里很多人都知道，只是没有人敢说。",
            "我手里有一些相关的照片和记录，必要时可以提供。",
            "希望组织上认真调查，对我反映的情况保密。",
            "此事影响很坏，严重损害了集团的形象。",
        ],
        Audience::Public => &[
            "机场的官方网站上没有找到相关说明。",
            "打了几次电话都占线，只好在这里留言。",
            "网上查到的信息说法不一，不知道该以哪个为准。",
        ],
    }
}

fn narratives(audience: Audience) -> &'static [&'static str] {
    match audience {
        Audience::Passenger => &[
            "事情发生后，我第一时间找到现场的工作人员，对方让我去问询台；到了问询台，又让我打服务热线；打了热线，接线员说会转给相关部门，让我等通知。",
            "我把当时的情况拍了照片和视频，也保留了登机牌和付款记录，可以提供给你们核实。",
            "我身边的几位旅客也遇到了同样的情况，大家都觉得很无奈，有的人当场就和工作人员吵了起来。",
            "回到家以后我越想越生气，在网上一搜，发现很多人都反映过类似的问题，说明这不是个别现象。",
        ],
        Audience::Community => &[
            "这几个月来，我们先后找过村委会、街道办和项目部，每次都说会协调，但是到现在问题还是没有解决。",
            "当初机场扩建的时候说好了会照顾周边群众的利益，村里人都很支持，可现在遇到问题却没有人管。",
            "村里的年轻人大多在外面打工，留在家里的都是老人和孩子，他们不会上网，也不知道该找谁。",
        ],
        Audience::Staff => &[
            "我先后找过班组长、部门负责人，也向工会反映过，都没有明确的答复。",
            "我家里上有老下有小，全靠这份工资生活，这件事对我们家影响很大。",
            "我们也知道单位有单位的难处，但是制度应该公开透明，不能让一线员工吃哑巴亏。",
        ],
        Audience::Business => &[
            "我们先后给商业管理公司写过{n}次书面报告，都没有得到正式回复。",
            "为了在机场经营，我们前期投入了几十万元的装修和设备，现在进退两难。",
            "商户们私下都在议论，但大家怕影响续约，都不敢公开提意见。",
        ],
        Audience::Integrity => &[
            "这种情况已经持续了很长时间，单位里的人私下都在议论。",
            "我考虑了很久才决定反映，希望组织上能认真核查，还大家一个风清气正的环境。",
        ],
        Audience::Public => &["我在网上和小程序里都找过，没有看到明确的说明。"],
    }
}

const HISTORY: &[&str] = &[
    "之前已经向现场工作人员反映过，对方说不归他们管。",
    "我已经打过{n}次服务热线，一直没有结果。",
    "找过相关部门，每次都说会研究，但一直没有下文。",
    "当时现场的工作人员答应会处理，到现在也没有人联系我。",
];

fn emotions(tone: Tone) -> &'static [&'static str] {
    match tone {
        Tone::Angry => &[
            "这种情况实在让人无法接受！",
            "我真的非常气愤！",
            "如果再得不到解决，我会向民航局和媒体反映。",
            "你们到底有没有人管？",
            "简直不把老百姓当回事！",
        ],
        Tone::Anxious => &[
            "现在家里人都很着急。",
            "我们真的是没有办法了才来反映的。",
            "这件事对我影响很大，心里一直很焦虑。",
        ],
        Tone::Polite => &[
            "希望有关部门能够重视。",
            "相信机场能够妥善处理。",
            "给你们添麻烦了。",
        ],
        Tone::Neutral => &[""],
    }
}

fn closings(tone: Tone) -> &'static [&'static str] {
    match tone {
        Tone::Polite => &[
            "谢谢！",
            "盼复。",
            "望早日答复为盼。",
            "感谢你们的工作。",
            "麻烦尽快给我答复，谢谢。",
        ],
        Tone::Neutral | Tone::Anxious => &[
            "请尽快处理。",
            "希望给个说法。",
            "请相关部门核实处理。",
            "请予以答复。",
            "",
        ],
        Tone::Angry => &[
            "请尽快处理，给我一个说法！",
            "我等你们的答复！",
            "希望这次不要再敷衍了事。",
        ],
    }
}

fn greeting<R: Rng + ?Sized>(rng: &mut R, channel: Channel) -> &'static str {
    match channel {
        Channel::Letter => pick(
            rng,
            &["尊敬的领导：您好！", "尊敬的信访办领导：", "机场集团领导："],
        ),
        Channel::LeaderMailbox => pick(rng, &["尊敬的集团领导：", "领导您好！", "尊敬的领导您好，", ""]),
        Channel::Email => pick(rng, &["您好：", "信访办的同志你们好，", "您好，", ""]),
        Channel::Website | Channel::Wechat => pick(rng, &["你好，", "您好！", "", "", ""]),
        _ => "",
    }
}

/// Splits a demand into its verb and the rest: `希望增开…` → (`希望`, `增开…`).
fn ask_verb(ask: &str) -> Option<(&'static str, &str)> {
    for (prefix, verb) in [
        ("希望", "希望"),
        ("要求", "要求"),
        ("建议", "建议"),
        ("请", "请求"),
    ] {
        if let Some(rest) = ask.strip_prefix(prefix) {
            return Some((verb, rest));
        }
    }
    None
}

/// Everything the composer needs to know about one matter.
pub(crate) struct Spec<'a> {
    pub topic: &'a Topic,
    pub issue: &'a Issue,
    pub kind: PetitionType,
    pub speaker: Speaker,
    pub channel: Channel,
    pub group: bool,
    pub first: Option<&'a Person>,
    pub names: Vec<String>,
    pub people: u32,
    pub tone: Tone,
}

/// The composed texts of a matter.
pub(crate) struct Composed {
    pub title: String,
    /// The issue phrase of the title, for replies and repeats.
    pub title_core: String,
    pub content: String,
    /// The first-person event sentences, reused by repeat petitions.
    pub body: String,
}

/// Whether the channel is recorded by an operator or clerk in the third person.
pub(crate) fn recorded(channel: Channel) -> bool {
    matches!(channel, Channel::Hotline12345 | Channel::Phone | Channel::WalkIn)
}

fn role_name(speaker: Speaker) -> &'static str {
    match speaker {
        Speaker::Resident => "村民",
        Speaker::Worker => "农民工",
        Speaker::Employee => "员工",
        Speaker::Dispatch => "派遣员工",
        Speaker::Tenant => "商户",
        Speaker::Driver => "出租车司机",
        Speaker::Passenger => "旅客",
        Speaker::Public => "群众",
    }
}

const VERB_STARTS: &[&str] = &["增", "开通", "延长", "优化", "调整", "为", "改善", "完善", "设立"];

/// A title for the matter.
fn title<R: Rng + ?Sized>(rng: &mut R, s: &Spec<'_>, core: &str, ctx: &Ctx) -> String {
    let verb_phrase = VERB_STARTS.iter().any(|v| core.starts_with(v));
    let t = match s.kind {
        PetitionType::Suggestion if verb_phrase => match rng.random_range(0..5) {
            0 | 1 => format!("建议{core}"),
            2 => format!("关于{core}的建议"),
            3 => format!("希望{core}"),
            _ => format!("请求{core}"),
        },
        PetitionType::Suggestion => match rng.random_range(0..3) {
            0 => format!("关于{core}的建议"),
            1 => format!("反映{core}"),
            _ => format!("{core}，建议改进"),
        },
        PetitionType::Report => match rng.random_range(0..5) {
            0 | 1 => format!("举报{core}"),
            2 => format!("反映{core}"),
            3 => format!("关于{core}的举报"),
            _ if s.first.is_some() => format!("实名举报{core}"),
            _ => format!("举报{core}"),
        },
        PetitionType::Inquiry => match rng.random_range(0..3) {
            0 => format!("咨询{core}"),
            1 => format!("关于{core}的咨询"),
            _ => format!("{core}咨询"),
        },
        PetitionType::Appeal => match rng.random_range(0..9) {
            0 | 1 => format!("反映{core}"),
            2 => format!("投诉{core}"),
            3 => format!("关于{core}的问题"),
            4 => format!("{core}，请求处理"),
            5 => format!("要求解决{core}问题"),
            6 if s.topic.place == crate::topics::Place::Community => {
                format!("{}{core}", ctx.village)
            }
            7 if s.topic.place == crate::topics::Place::Terminal && !core.contains('T') => {
                format!("{}{core}", ctx.terminal)
            }
            _ => core.to_string(),
        },
    };
    let t = if s.group && rng.random_bool(0.6) {
        let who = match s.speaker {
            Speaker::Resident => format!("{}村民", ctx.village),
            Speaker::Worker => format!("{}名农民工", ctx.people),
            sp => role_name(sp).to_string(),
        };
        match rng.random_range(0..3) {
            0 => format!("{who}集体反映{core}"),
            1 if s.channel == Channel::Letter => format!("{who}联名反映{core}"),
            1 => format!("{who}集体上访反映{core}"),
            _ => format!("关于{who}反映{core}的情况"),
        }
    } else {
        t
    };
    truncate_chars(&t, MAX_TITLE)
}

/// The first `max` characters of `s`.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Cuts `s` to at most `max` characters, at the end of a sentence when there is one.
fn cut_at_sentence(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    match head.rfind(['。', '！', '？']) {
        Some(i) if head[..i].chars().count() > max / 2 => head[..i + '。'.len_utf8()].to_string(),
        _ => head,
    }
}

/// Composes the title and content of a new matter.
pub(crate) fn compose<R: Rng + ?Sized>(rng: &mut R, s: &Spec<'_>, ctx: &Ctx) -> Composed {
    let core = fill(rng, s.issue.title, ctx);
    let title = title(rng, s, &core, ctx);
    // How much is said: short, medium or long; letters tend to be long.
    let letter = matches!(s.channel, Channel::Letter | Channel::LeaderMailbox);
    let size = if letter {
        pick_weighted(rng, &[0.15, 0.45, 0.4])
    } else {
        pick_weighted(rng, &[0.3, 0.5, 0.2])
    };
    let inquiry = s.kind == PetitionType::Inquiry;
    let body = fill_pick(rng, s.issue.events, ctx);
    // Events that already say who is speaking need no introduction.
    let self_introduced = ["我是", "我们是", "经营一家", "我在机场", "我原来是"]
        .iter()
        .any(|w| body.contains(w));
    let intro = if inquiry {
        if rng.random_bool(0.65) {
            fill_pick(rng, inquiry_intros(s.speaker), ctx)
        } else {
            String::new()
        }
    } else if self_introduced || (size == 0 && rng.random_bool(0.6)) {
        String::new()
    } else {
        fill_pick(rng, intros(s.speaker, s.group), ctx)
    };
    let audience = if inquiry {
        Audience::Public
    } else {
        s.topic.audience
    };
    let mut extra = String::new();
    if size >= 1 && !inquiry && rng.random_bool(0.45 + 0.3 * (size as f64 - 1.0)) {
        extra.push_str(&fill_pick(rng, backgrounds(s.speaker), ctx));
    }
    if (size == 2 || (size == 1 && rng.random_bool(0.25))) && !inquiry {
        extra.push_str(&fill_pick(rng, HISTORY, ctx));
    }
    if !inquiry && (size == 2 && rng.random_bool(0.7) || letter && size == 1 && rng.random_bool(0.3)) {
        extra.push_str(&fill_pick(rng, narratives(audience), ctx));
    }
    let list = reflections(audience);
    if size == 2 || (size == 1 && rng.random_bool(0.3)) {
        let first = rng.random_range(0..list.len());
        extra.push_str(&fill(rng, list[first], ctx));
        if size == 2 && rng.random_bool(0.5) {
            let second = (first + 1 + rng.random_range(0..list.len() - 1)) % list.len();
            extra.push_str(&fill(rng, list[second], ctx));
        }
    }
    let asks = s.issue.asks;
    let mut ask = fill_pick(rng, asks, ctx);
    if size == 2 && asks.len() > 1 && !inquiry {
        let i = rng.random_range(0..asks.len());
        let other = fill(rng, asks[(i + 1) % asks.len()], ctx);
        let first = fill(rng, asks[i], ctx);
        ask = if letter && rng.random_bool(0.6) {
            format!(
                "为此，{}提出以下诉求：一是{}；二是{}",
                if s.group { "我们" } else { "我" },
                first.trim_end_matches('。'),
                other
            )
        } else {
            format!("{first}{other}")
        };
    }
    let tail = if letter && size == 2 && rng.random_bool(0.6) {
        pick(rng, LETTER_TAILS)
    } else {
        ""
    };
    let mut content = String::new();
    for round in 0..4 {
        content = if recorded(s.channel) {
            recorded_content(rng, s, &intro, &body, &extra, &ask)
        } else {
            written_content(rng, s, &intro, &body, &extra, &ask, tail)
        };
        if content.chars().count() >= MIN_CONTENT {
            break;
        }
        // Too short: say a little more and write it again.
        let more = if inquiry || round % 2 == 1 {
            fill_pick(rng, list, ctx)
        } else {
            fill_pick(rng, backgrounds(s.speaker), ctx)
        };
        extra.push_str(&more);
    }
    if content.chars().count() < MIN_CONTENT {
        content.push_str("请相关部门核实后尽快处理并予以答复。");
    }
    Composed {
        title,
        title_core: core,
        content: cut_at_sentence(&content, MAX_CONTENT),
        body,
    }
}

/// Makes sure a content is between the bounds.
fn pad(mut content: String) -> String {
    if content.chars().count() < MIN_CONTENT {
        content.push_str("请相关部门核实后尽快处理并予以答复。");
    }
    cut_at_sentence(&content, MAX_CONTENT)
}

/// Closing sentences of long letters.
const LETTER_TAILS: &[&str] = &[
    "随信附上相关照片{n}张和票据复印件。",
    "以上反映情况属实，如有不实，本人愿意承担相应责任。",
    "恳请领导在百忙之中过问此事。",
    "我们相信集团领导一定会秉公处理。",
    "相关材料我都保存着，需要的话可以随时提供。",
];

fn written_content<R: Rng + ?Sized>(
    rng: &mut R,
    s: &Spec<'_>,
    intro: &str,
    body: &str,
    extra: &str,
    ask: &str,
    tail: &str,
) -> String {
    let mut c = String::new();
    c.push_str(greeting(rng, s.channel));
    c.push_str(intro);
    c.push_str(body);
    c.push_str(extra);
    let emotion = pick(rng, emotions(s.tone));
    if !emotion.is_empty() && rng.random_bool(0.7) {
        c.push_str(emotion);
    }
    match rng.random_range(0..4) {
        0 if s.kind != PetitionType::Inquiry => {
            c.push_str("我的诉求是：");
            c.push_str(ask);
        }
        1 if s.tone == Tone::Angry => {
            if let Some(("要求", rest)) = ask_verb(ask) {
                c.push_str("强烈要求");
                c.push_str(rest);
            } else {
                c.push_str(ask);
            }
        }
        _ => c.push_str(ask),
    }
    c.push_str(&tail.replace("{n}", &rng.random_range(2..=9).to_string()));
    c.push_str(pick(rng, closings(s.tone)));
    if s.channel == Channel::Letter {
        if rng.random_bool(0.5) {
            c.push_str("此致敬礼！");
        }
        if s.group && s.names.len() > 1 {
            c.push_str(&format!("联名人：{}等{}人", s.names.join("、"), s.people));
        } else if let Some(p) = s.first {
            c.push_str(&format!("反映人：{}", p.petitioner.name));
        }
    }
    c
}

fn recorded_content<R: Rng + ?Sized>(
    rng: &mut R,
    s: &Spec<'_>,
    intro: &str,
    body: &str,
    extra: &str,
    ask: &str,
) -> String {
    let who = if s.channel == Channel::WalkIn {
        "来访人"
    } else {
        "来电人"
    };
    let named = s.first.map(|p| format!("{}{}", p.surname(), p.honorific()));
    let inquiry = s.kind == PetitionType::Inquiry;
    let says = if inquiry { "咨询" } else { "反映" };
    let mut c = String::new();
    let prefix = match s.channel {
        Channel::WalkIn if s.group => match rng.random_range(0..2) {
            0 => format!("{}名{}集体来访，反映：", s.people, role_name(s.speaker)),
            _ => format!("{}等{}人到信访办集体走访，反映：", s.first_name(), s.people),
        },
        Channel::WalkIn => match rng.random_range(0..3) {
            0 => format!("来访人{says}："),
            1 => format!("来访人{}某{says}：", s.first.map_or("", |p| p.surname())),
            _ => format!("来访人到信访办{says}："),
        },
        Channel::Hotline12345 => match rng.random_range(0..5) {
            0 => format!("来电人{says}："),
            1 => format!("市民来电{says}，"),
            2 => "来电人称：".to_string(),
            3 => match &named {
                Some(n) => format!("{n}来电{says}："),
                None => format!("来电{says}："),
            },
            _ => format!("【12345转办】来电人{says}："),
        },
        _ => match rng.random_range(0..3) {
            0 => "来电人称：".to_string(),
            1 => match &named {
                Some(n) => format!("{n}来电{says}："),
                None => format!("来电{says}："),
            },
            _ => format!("来电{says}："),
        },
    };
    c.push_str(&prefix);
    if s.group {
        c.push_str(&intro.replace("我们是", "他们是").replace("我们", "他们"));
        if body.contains('我') && !body.contains("我们") {
            // One person's story within a group visit.
            c.push_str(&format!("其中{}称，", s.first_name()));
        }
    } else {
        c.push_str(&third_person(intro));
    }
    c.push_str(&third_person(body));
    c.push_str(&third_person(extra));
    match s.tone {
        Tone::Angry => c.push_str(&format!(
            "{who}{}",
            pick(
                rng,
                &[
                    "情绪较为激动。",
                    "表示若问题再得不到解决，将向上级部门和媒体反映。",
                    "称已多次反映未果，对此非常不满。"
                ]
            )
        )),
        Tone::Anxious if rng.random_bool(0.6) => {
            c.push_str(&format!("{who}称此事对其生活影响很大，希望尽快解决。"));
        }
        _ => {}
    }
    if !inquiry {
        let ask3 = third_person(ask);
        match ask_verb(&ask3) {
            Some((verb, rest)) if rng.random_bool(0.6) => c.push_str(&format!("{who}{verb}{rest}")),
            _ => c.push_str(&format!("诉求：{ask3}")),
        }
    }
    let suffix = match s.channel {
        Channel::Hotline12345 => pick(
            rng,
            &[
                "请相关单位核实处理并回复来电人。",
                "请按时限办理。",
                "请核实处理。",
                "请尽快联系来电人。",
            ],
        ),
        Channel::WalkIn => pick(
            rng,
            &[
                "",
                "接访人员已登记相关材料。",
                "已告知来访人将转相关部门办理。",
                "来访人提交了书面材料。",
            ],
        ),
        _ => pick(rng, &["", "已告知来电人将转相关部门办理。", ""]),
    };
    c.push_str(suffix);
    c
}

impl Spec<'_> {
    fn first_name(&self) -> String {
        self.first
            .map_or_else(|| "群众".to_string(), |p| p.petitioner.name.clone())
    }
}

/// The content of a repeat petition: a reference to the earlier one, its events and a
/// complaint that nothing came of it.
pub(crate) fn compose_repeat<R: Rng + ?Sized>(
    rng: &mut R,
    s: &Spec<'_>,
    ctx: &Ctx,
    earlier_day: &str,
    earlier_body: &str,
    core: &str,
) -> Composed {
    let title = truncate_chars(
        &match rng.random_range(0..4) {
            0 => format!("再次反映{core}"),
            1 => format!("{core}问题至今未解决"),
            2 => format!("多次反映{core}无果"),
            _ => format!("第二次反映{core}"),
        },
        MAX_TITLE,
    );
    let still = pick(
        rng,
        &[
            "至今没有得到解决。",
            "当时答复说会整改，但到现在情况依旧。",
            "对之前的答复不满意。",
            "一直没有人联系我。",
            "问题不但没有解决，反而更严重了。",
        ],
    );
    let ask = fill_pick(rng, s.issue.asks, ctx);
    let content = if recorded(s.channel) {
        let who = if s.channel == Channel::WalkIn {
            "来访人"
        } else {
            "来电人"
        };
        format!(
            "{who}称其于{earlier_day}已反映过该问题，{}{}{who}{}{}",
            third_person(still),
            third_person(earlier_body),
            pick(rng, &["再次", "强烈", ""]),
            match ask_verb(&third_person(&ask)) {
                Some((verb, rest)) => format!("{verb}{rest}"),
                None => format!("要求{}", third_person(&ask)),
            }
        )
    } else {
        format!(
            "{}我在{earlier_day}已经反映过这个问题，{still}{earlier_body}{}{ask}{}",
            greeting(rng, s.channel),
            pick(
                rng,
                &["这次再次反映，", "请领导重视，", "", "希望这次能认真对待。"]
            ),
            pick(rng, closings(s.tone))
        )
    };
    Composed {
        title,
        title_core: core.to_string(),
        content: pad(content),
        body: earlier_body.to_string(),
    }
}

/// A reply (处理意见) to a matter.
pub(crate) struct ReplySpec<'a> {
    pub topic: &'a Topic,
    pub issue: &'a Issue,
    pub kind: PetitionType,
    pub unit: &'a str,
    pub channel: Channel,
    pub registered_day: String,
    pub person: Option<&'a Person>,
    pub core: &'a str,
    pub external_id: Option<&'a str>,
}

/// One of `list[fit]` (or of `list` when `fit` is empty).
fn fitting<R: Rng + ?Sized>(rng: &mut R, list: &[&'static str], fit: &[u8]) -> &'static str {
    if fit.is_empty() {
        return pick(rng, list);
    }
    let i = fit[rng.random_range(0..fit.len())] as usize;
    list.get(i).copied().unwrap_or_else(|| pick(rng, list))
}

/// Writes the reply text.
pub(crate) fn reply<R: Rng + ?Sized>(rng: &mut R, r: &ReplySpec<'_>, ctx: &Ctx) -> String {
    let mut c = String::new();
    match r.person {
        Some(p) if rng.random_bool(0.7) => {
            c.push_str(&format!("{}{}：您好！", p.petitioner.name, p.honorific()));
        }
        _ => c.push_str("您好！"),
    }
    let channel_zh = r.channel.label_zh();
    match (r.channel, r.external_id, rng.random_range(0..3)) {
        (Channel::Hotline12345, Some(id), 0) => {
            c.push_str(&format!("关于{id}号工单反映的{}问题，现答复如下：", r.core));
        }
        (_, _, 1) => c.push_str(&format!(
            "您于{}通过{channel_zh}反映的关于{}的问题已收悉，我们高度重视。",
            r.registered_day, r.core
        )),
        _ => c.push_str(&format!(
            "您反映的“{}”问题，已转{}办理，现将办理情况答复如下：",
            r.core, r.unit
        )),
    }
    if r.kind == PetitionType::Inquiry {
        match r.issue.answer {
            Some(a) => c.push_str(a),
            None => {
                c.push('经');
                c.push_str(r.unit);
                c.push_str("核实，");
                c.push_str(&fill_pick(rng, r.topic.findings, ctx));
            }
        }
        let tpl = fitting(rng, r.topic.measures, r.issue.measures);
        c.push_str(&fill(rng, tpl, ctx));
        c.push_str(pick(
            rng,
            &["感谢您的来电来信。", "祝您出行愉快！", "感谢您对机场工作的关心。"],
        ));
        return cut_at_sentence(&c, 1000);
    }
    let finding = {
        let tpl = fitting(rng, r.topic.findings, r.issue.findings);
        fill(rng, tpl, ctx)
    };
    if finding.starts_with('经') {
        c.push_str(&finding);
    } else {
        c.push_str(&format!("经{}调查核实，{finding}", r.unit));
    }
    let mut measures: Vec<&str> = if r.issue.measures.is_empty() {
        r.topic.measures.to_vec()
    } else {
        r.issue
            .measures
            .iter()
            .filter_map(|i| r.topic.measures.get(*i as usize).copied())
            .collect()
    };
    if measures.is_empty() {
        measures.push("已责成相关部门整改。");
    }
    let n = 1 + usize::from(rng.random_bool(0.45) && measures.len() > 1);
    for _ in 0..n {
        let i = rng.random_range(0..measures.len());
        c.push_str(&fill(rng, measures.swap_remove(i), ctx));
    }
    if r.kind == PetitionType::Appeal && rng.random_bool(0.4) {
        c.push_str("对给您带来的不便，我们深表歉意。");
    }
    c.push_str(match r.kind {
        PetitionType::Report if r.topic.audience == Audience::Integrity => pick(
            rng,
            &["感谢您的监督！", "感谢您对集团党风廉政建设工作的支持和监督。"],
        ),
        PetitionType::Report => pick(rng, &["感谢您的监督！", "感谢您对机场安全和服务工作的监督。"]),
        PetitionType::Suggestion => pick(rng, &["感谢您提出的宝贵建议。", "感谢您对机场工作的关心和支持！"]),
        _ => pick(
            rng,
            &[
                "感谢您对机场工作的理解和支持。",
                "如仍有疑问，可拨打机场服务热线进一步咨询。",
                "感谢您的监督，我们将持续改进服务。",
            ],
        ),
    });
    if matches!(r.channel, Channel::Letter | Channel::WalkIn) && rng.random_bool(0.6) {
        c.push_str("如对本答复意见不服，可自收到本意见之日起30日内向集团信访办提出复查申请。");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn ctx(rng: &mut StdRng) -> Ctx {
        let reg = NaiveDate::from_ymd_opt(2025, 3, 14)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        Ctx::new(rng, reg, 1)
    }

    #[test]
    fn every_slot_in_the_fragments_is_known() {
        let mut rng = StdRng::seed_from_u64(5);
        let c = ctx(&mut rng);
        let mut all: Vec<&str> = Vec::new();
        for t in crate::topics::TOPICS {
            for i in t.issues {
                all.push(i.title);
                all.extend(i.events);
                all.extend(i.asks);
            }
            all.extend(t.findings);
            all.extend(t.measures);
        }
        for sp in [
            Speaker::Passenger,
            Speaker::Resident,
            Speaker::Employee,
            Speaker::Dispatch,
            Speaker::Tenant,
            Speaker::Driver,
            Speaker::Worker,
            Speaker::Public,
        ] {
            all.extend(intros(sp, false));
            all.extend(intros(sp, true));
            all.extend(inquiry_intros(sp));
            all.extend(backgrounds(sp));
        }
        for a in [
            Audience::Passenger,
            Audience::Community,
            Audience::Staff,
            Audience::Business,
            Audience::Integrity,
            Audience::Public,
        ] {
            all.extend(reflections(a));
            all.extend(narratives(a));
        }
        all.extend(HISTORY);
        all.extend(LETTER_TAILS.iter().filter(|t| !t.contains("{n}")));
        for tpl in all {
            let out = fill(&mut rng, tpl, &c);
            assert!(!out.contains('{') && !out.contains('}'), "{tpl} -> {out}");
        }
    }

    #[test]
    fn third_person_rewrites_the_speaker() {
        assert_eq!(
            third_person("我是一名出租车司机，我的车"),
            "其系一名出租车司机，其车"
        );
        assert_eq!(third_person("我们村的路"), "其所在村的路");
    }

    #[test]
    fn months_wrap() {
        let d = NaiveDate::from_ymd_opt(2025, 2, 1).unwrap();
        assert_eq!(prev_month(d, 3), 11);
        assert_eq!(prev_month(d, 0), 2);
        assert_eq!(prev_month(d, 1), 1);
    }

    #[test]
    fn cutting_keeps_whole_sentences() {
        let s = "一二三四五。六七八九十。十一十二";
        assert_eq!(cut_at_sentence(s, 14), "一二三四五。六七八九十。");
        assert_eq!(cut_at_sentence(s, 100), s);
    }
}
