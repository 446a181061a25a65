//! What people write about: one topic per taxonomy subcategory, each with issues, who raises
//! them, sentence fragments with `{slot}` placeholders, and what the handling unit finds.
//!
//! Fragments are written in the first person ("我…"); [`crate::text`] turns them into the
//! third person for hotline work orders and clerks' records, fills the slots and stitches
//! openings, details, demands and closings around them.

use xinfang_core::matter::{DeclineReason, PetitionType};

/// Who is speaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Speaker {
    /// A passenger or someone meeting one.
    Passenger,
    /// A villager living near the runway or a construction site.
    Resident,
    /// An employee of the group.
    Employee,
    /// A dispatch or outsourced worker (劳务派遣/外包).
    Dispatch,
    /// A tenant or shop owner in the terminal.
    Tenant,
    /// A taxi or ride-hailing driver.
    Driver,
    /// A construction worker of a contractor (农民工).
    Worker,
    /// Anyone else.
    Public,
}

/// Which audience a topic belongs to; drives which channels it comes in through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    Passenger,
    Community,
    Staff,
    Business,
    Integrity,
    Public,
}

/// Where the matter happens (the `location` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Terminal,
    Baggage,
    Parking,
    Transport,
    Community,
    Worksite,
    Office,
    Airside,
    Nowhere,
}

/// One kind of complaint, suggestion, report or question within a topic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Issue {
    /// A short noun phrase for titles (verb phrase for suggestions); may hold slots.
    pub title: &'static str,
    /// Overrides the category's petition type.
    pub kind: Option<PetitionType>,
    /// Who raises it.
    pub speakers: &'static [Speaker],
    /// Whether it is raised by groups (集体访) too.
    pub group: bool,
    /// What happened: alternative sentences, one or two are used.
    pub events: &'static [&'static str],
    /// What the petitioner asks for.
    pub asks: &'static [&'static str],
    /// A specific answer for the reply (inquiries).
    pub answer: Option<&'static str>,
    /// Where it happens (a template), overriding the topic's place; `Some("")` for nowhere.
    pub spot: Option<&'static str>,
    /// Indices of the topic's findings and measures that fit this issue (empty: any).
    pub findings: &'static [u8],
    pub measures: &'static [u8],
}

const fn issue(
    title: &'static str,
    speakers: &'static [Speaker],
    events: &'static [&'static str],
    asks: &'static [&'static str],
) -> Issue {
    Issue {
        title,
        kind: None,
        speakers,
        group: false,
        events,
        asks,
        answer: None,
        spot: None,
        findings: &[],
        measures: &[],
    }
}

impl Issue {
    const fn kind(self, kind: PetitionType) -> Self {
        Self {
            kind: Some(kind),
            ..self
        }
    }

    const fn group(self) -> Self {
        Self { group: true, ..self }
    }

    const fn answer(self, answer: &'static str) -> Self {
        Self {
            answer: Some(answer),
            ..self
        }
    }

    const fn at(self, spot: &'static str) -> Self {
        Self {
            spot: Some(spot),
            ..self
        }
    }

    const fn fit(self, findings: &'static [u8], measures: &'static [u8]) -> Self {
        Self {
            findings,
            measures,
            ..self
        }
    }
}

/// The demo's view of one taxonomy subcategory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Topic {
    /// The subcategory name in the taxonomy CSV.
    pub sub: &'static str,
    /// Relative frequency.
    pub weight: f64,
    pub audience: Audience,
    pub place: Place,
    /// The usual reason when such a matter is not accepted, and how often that happens.
    pub decline: DeclineReason,
    pub decline_p: f64,
    pub issues: &'static [Issue],
    /// What the handling unit found (reply).
    pub findings: &'static [&'static str],
    /// What it did about it (reply).
    pub measures: &'static [&'static str],
}

use PetitionType::{Appeal, Inquiry, Report, Suggestion};
use Speaker::*;

const PAX: &[Speaker] = &[Passenger];
const PAX_PUB: &[Speaker] = &[Passenger, Passenger, Public];
const RES: &[Speaker] = &[Resident];
const EMP: &[Speaker] = &[Employee];
const EMP_DIS: &[Speaker] = &[Employee, Dispatch];
const DIS: &[Speaker] = &[Dispatch];
const TEN: &[Speaker] = &[Tenant];
const DRV: &[Speaker] = &[Driver];
const WRK: &[Speaker] = &[Worker];
const PUB: &[Speaker] = &[Public, Passenger];
const INSIDE: &[Speaker] = &[Employee, Dispatch, Public, Tenant];
const SAFETY: &[Speaker] = &[Employee, Dispatch, Worker, Passenger, Public];
const TEN_EMP: &[Speaker] = &[Tenant, Tenant, Employee];

/// All topics, one per taxonomy subcategory.
pub(crate) const TOPICS: &[Topic] = &[
    Topic {
        sub: "机场大巴班次",
        weight: 6.0,
        audience: Audience::Passenger,
        place: Place::Transport,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.02,
        issues: &[
            issue(
                "晚间航班落地后机场大巴停运",
                PAX,
                &[
                    "我乘坐{flight}航班{date}才落地，出来以后发现去市区的{bus}已经停运，只好打车回家，花了{yuan}元。",
                    "{date}我从{t}出来准备坐大巴，售票窗口已经关门，站牌上写的末班车时间和实际不一致，白白等了{min}分钟。",
                    "最近航班晚点是常事，我{date}到达，出来一辆大巴都没有，现场也没有任何工作人员可以问。",
                ],
                &["希望大巴末班车时间能和晚间航班衔接起来。", "请对末班车时间公示不准确的问题作出解释。", "要求报销我多花的打车费用。"],
            )
            .at("{t}交通中心")
            .fit(&[0], &[0, 3]),
            issue(
                "机场大巴发车间隔过长",
                PAX_PUB,
                &[
                    "{date}在{t}候车，{bus}说是半小时一班，实际等了{min}分钟才来一辆，车上还坐不下，很多人只能继续等下一班。",
                    "最近几次坐{bus}，每次都要等{min}分钟以上，旺季人多的时候根本挤不上去。",
                    "{bus}的发车时间完全没有规律，问调度说要等坐满才走，我们赶时间的旅客非常着急。",
                ],
                &["希望高峰时段加密班次。", "请核实大巴实际发车情况，按公示时间发车。", "建议在候车区设置发车时间显示屏。"],
            )
            .at("{t}交通中心")
            .fit(&[1], &[0]),
            issue(
                "增开夜间机场大巴线路",
                PAX_PUB,
                &[
                    "很多航班晚上11点以后才落地，现在大巴最晚一班是晚上{pm}点，旅客只能打车或者被拉客的黑车带走。",
                    "我家住在{district}，机场大巴没有直达线路，每次都要转两趟车，带着行李很不方便。",
                    "我每个月要往返机场好几次，{district}方向人很多，但是一直没有大巴线路。",
                ],
                &["建议增开到{district}方向的线路。", "建议根据航班落地时间延长大巴运营时间。", "建议开通夜间定制班车。"],
            )
            .kind(Suggestion)
            .at("")
            .fit(&[3], &[2]),
            issue(
                "大巴司机加收行李费且态度差",
                PAX,
                &[
                    "{date}坐{bus}，司机说我的行李箱太大，要加收{yuan_s}元才能放进行李舱，我问收费依据，他态度非常恶劣。",
                    "{date}我在{t}上了{bus}，售票员多收了我{yuan_s}元，说是行李费，也不给票据。",
                ],
                &["要求退还多收的费用，并对司机进行教育。", "请查明是否有这项收费规定。"],
            )
            .at("{t}交通中心")
            .fit(&[2], &[1]),
        ],
        findings: &[
            "调取当日大巴运营记录，{bus}末班车发车时间与公示一致，但当日因道路施工晚发车约{min_s}分钟，现场未做好解释。",
            "您反映的高峰时段候车时间过长的情况属实，主要原因是节假日客流激增、运力调配不及时。",
            "经调查，大巴运营单位并无加收行李费的规定，当班司机的做法违反了服务规范。",
            "目前机场大巴共开通{n}条线路，末班车时间已按晚间航班波次进行了调整。",
        ],
        measures: &[
            "已要求运营单位在晚间航班集中时段增加班次，并在候车区增设电子屏实时公布发车信息。",
            "已对当班司机进行批评教育并扣减当月服务考核分，多收的费用已退还。",
            "您提出的增开线路建议已转交运营单位进行客流调研，具备条件后将适时开通。",
            "已在{t}到达层增设大巴引导标识，并安排专人在末班车时段现场引导。",
        ],
    },
    Topic {
        sub: "出租车与网约车",
        weight: 8.0,
        audience: Audience::Passenger,
        place: Place::Transport,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.03,
        issues: &[
            issue(
                "出租车拒载短途乘客",
                PAX,
                &[
                    "{date}在{t}出租车上客区排队，轮到我时司机听说去{district}，嫌路程太近不愿意走，还让我下车重新排队。",
                    "我要去的地方离机场只有{km}公里，连续两辆出租车都拒载，现场调度员也不管。",
                    "{date}带着老人在出租车上客区打车，司机一听是短途就开始抱怨，一路上都在发牢骚。",
                ],
                &["要求查处拒载的司机。", "希望加强上客区管理，设立短途专用通道。", "请给我一个明确的处理结果。"],
            )
            .at("{t}出租车上客区")
            .fit(&[0], &[0]),
            issue(
                "蓄车场排队秩序混乱",
                DRV,
                &[
                    "我在东区蓄车场排了{hour}个多小时，有车辆不按顺序插队，调度员视而不见。",
                    "蓄车场里没有像样的厕所和热水，我们司机一排就是三四个小时，连吃饭的地方都没有。",
                    "最近蓄车场放车规则说改就改，也不提前通知，{day}我排了一下午没拉到一个客人。",
                ],
                &["希望规范排队秩序，公开放车规则。", "请改善蓄车场的基本设施。", "要求对插队车辆严肃处理。"],
            )
            .group()
            .at("东区出租车蓄车场")
            .fit(&[1], &[1]),
            issue(
                "网约车上客点距离远无指引",
                PAX,
                &[
                    "{date}在{t}叫了网约车，手机提示去{park}网约车上客点，走了{min_s}分钟都没找到，一路上都没有指示牌。",
                    "网约车上客点设在{park}，从到达层过去要绕很远，下雨天没有遮挡，带着孩子和行李特别狼狈。",
                ],
                &["希望在到达层增加网约车上客点指引。", "建议把上客点设在离出口近一点的地方。"],
            )
            .at("{t}网约车上客点")
            .fit(&[3], &[3]),
            issue(
                "出租车司机绕路多收费",
                PAX,
                &[
                    "{date}从机场打车回{district}，平时走的路线司机不走，故意绕了一大圈，多收了{yuan_s}元。",
                    "{date}在机场坐出租车，司机不打表，一口价要{yuan}元，我不同意就不让下车。",
                ],
                &["要求退还多收的车费并处理该司机。", "希望对机场出租车加强监管。"],
            )
            .at("")
            .fit(&[2], &[2]),
            issue(
                "到达层有人拉客揽客",
                PUB,
                &[
                    "{t}到达层出口经常有人拉客，说是{yuan_s}元一位拼车去市区，上车以后又加价。",
                    "{date}我在{t}出口被几个人围着拉客，甩都甩不掉，旁边就有工作人员也不管。",
                ],
                &["建议加大对非法拉客的整治力度。", "请安排人员在出口处维持秩序。"],
            )
            .kind(Report)
            .at("{t}到达层")
            .fit(&[4], &[4]),
        ],
        findings: &[
            "调取上客区监控和车辆运营记录核实，该车辆确有拒载行为。",
            "您反映的蓄车场插队问题经现场核查基本属实，个别车辆存在不服从调度的情况。",
            "经调取计价器和行车轨迹数据核实，该驾驶员存在绕路行为。",
            "网约车上客点因综合交通中心施工临时调整，相关指引标识设置不到位。",
            "经现场巡查，到达层出口确有非法拉客人员活动，现场管理力量不足。",
        ],
        measures: &[
            "已将该驾驶员列入机场营运黑名单暂停其进场资格，并移交交通运输部门处理。",
            "已增派调度人员，实行电子排队叫号，并公示放车规则。",
            "已督促驾驶员退还多收的车费，并对其所属公司进行约谈。",
            "已在到达层出口增设网约车上客点指引标识{n}处，并安排引导员值守。",
            "已联合公安机场分局开展非法营运专项整治行动。",
        ],
    },
    Topic {
        sub: "轨道交通衔接",
        weight: 3.0,
        audience: Audience::Passenger,
        place: Place::Transport,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.05,
        issues: &[
            issue(
                "开通高铁站至机场夜间接驳专线",
                PAX_PUB,
                &[
                    "我经常从高铁站转乘飞机，晚上{pm}点以后两地之间只能打车，费用要{yuan}元左右。",
                    "高铁和机场之间没有直达的轨道交通，晚上到站的旅客要转两三次车才能到机场。",
                ],
                &["建议开通高铁站到机场的夜间专线。", "希望与地铁公司协调延长运营时间。"],
            )
            .at("")
            .fit(&[0], &[0]),
            issue(
                "地铁末班车与晚间航班不衔接",
                PAX,
                &[
                    "{date}我坐的{flight}落地已经是晚上{pm}点多，走到地铁站发现末班车刚开走。",
                    "机场地铁末班车太早，很多晚上到达的旅客都赶不上，只能在到达层排长队打车。",
                ],
                &["建议地铁末班车根据航班情况适当延后。", "建议在到达层公示地铁末班车时间。"],
            )
            .at("{t}地铁站")
            .fit(&[2, 0], &[0, 2]),
            issue(
                "航站楼至地铁站换乘指引不清",
                PAX,
                &[
                    "从{t}到地铁站要走{min_s}分钟，中间的指示牌不清楚，我拖着两个箱子走错了两次。",
                    "{date}在{t}找地铁入口，问了{n}个工作人员说法都不一样，最后差点误了约好的时间。",
                ],
                &["希望完善换乘指引标识。", "建议增设自动步道。"],
            )
            .kind(Appeal)
            .at("{t}地铁换乘通道")
            .fit(&[1], &[1]),
            issue(
                "机场地铁线运营时间",
                PUB,
                &[
                    "请问机场地铁线每天首末班车是几点？节假日会不会延长运营？",
                    "我{day}晚上的航班到达，想问一下那时候地铁还有没有，从{t}怎么走最近？",
                ],
                &["麻烦告知一下。", "谢谢答复。"],
            )
            .kind(Inquiry)
            .answer("机场地铁线首班车6:30、末班车23:00由机场站发出，节假日及航班大面积延误时会视情况延长运营，从T1、T2航站楼到达层按“地铁”标识前往B2层即可乘车。")
            .at("")
            .fit(&[], &[2]),
        ],
        findings: &[
            "机场与城市轨道交通的衔接由地铁运营公司负责调度，我们已将您的建议书面转交。",
            "经现场核查，{t}通往地铁站的换乘通道确有{n}处指引标识不清晰。",
            "目前机场地铁末班车为23:00，较多晚间到达旅客存在换乘不便的情况。",
        ],
        measures: &[
            "已与地铁运营公司建立航班延误联动机制，大面积延误时延长运营时间。",
            "已对换乘通道的导向标识进行全面排查更新。",
            "已在到达层和行李提取厅增设地铁运营时间公示牌。",
        ],
    },
    Topic {
        sub: "停车收费",
        weight: 8.0,
        audience: Audience::Passenger,
        place: Place::Parking,
        decline: DeclineReason::LitigationOrArbitration,
        decline_p: 0.01,
        issues: &[
            issue(
                "停车超时几分钟按一小时收费",
                PAX_PUB,
                &[
                    "{date}我在{park}停车接人，出场时比整点只超了{min_s}分钟，却按一个小时收费，多收了{yuan_s}元。",
                    "{date}送家人去{city}，在{park}停了不到两个小时，出场时收了我{yuan}元，明显和收费标准不符。",
                ],
                &["要求退还多收的停车费。", "希望停车收费按实际时间计算。", "请公开停车计费规则。"],
            )
            .fit(&[0], &[0, 1]),
            issue(
                "停车电子支付重复扣费",
                PAX_PUB,
                &[
                    "{date}从{park}出场时用手机扫码付了{yuan_s}元停车费，结果车牌绑定的无感支付又扣了一次，至今没有退回。",
                    "我在{park}的停车费被重复扣款两次，打停车场电话说要找银行，找银行又说找停车场，来回推诿。",
                ],
                &["要求尽快退还重复扣除的费用。", "请停车场给我一个明确答复。"],
            )
            .fit(&[1], &[0]),
            issue(
                "停车收费标准不透明",
                PUB,
                &[
                    "{park}入口没有明显的收费公示，出场时才知道长时停车按天收{yuan_s}元，和网上查到的标准不一样。",
                    "出差{n}天把车停在{park}，出来收了{yuan}元，收费员也说不清是怎么算的。",
                ],
                &["希望在入口醒目位置公示收费标准。", "请核实我的停车费用是否计算正确。"],
            )
            .fit(&[2], &[1]),
            issue(
                "延长接送机车辆免费停车时间",
                PUB,
                &[
                    "现在接机车辆只有{min_s}分钟免费时间，航班稍微晚点就要交费，很多人只好在高架上违停等人。",
                    "送机的车在出发层停一下就被催走，去停车场又要收费，希望体谅一下接送亲友的市民。",
                ],
                &["建议把免费停车时间延长到30分钟。", "建议设置专门的接送机临时停车区。"],
            )
            .kind(Suggestion)
            .at("{t}出发层")
            .fit(&[4], &[3]),
            issue(
                "停车场缴费机故障出场排长队",
                PAX_PUB,
                &[
                    "{date}{park}出口的缴费机坏了，只开了一个人工通道，出场排了{min}分钟。",
                    "{date}在{park}出场，道闸识别不了车牌，后面堵了一长串车，现场没有人管。",
                ],
                &["希望及时维修设备，高峰期增开人工通道。", "请加强出口管理。"],
            )
            .fit(&[3], &[2]),
        ],
        findings: &[
            "调取您车辆的进出场记录和计费明细核实，系统在计费时段切换时存在计费误差。",
            "经与支付平台核对，您的车辆当日确实发生重复扣费。",
            "停车场收费标准已经价格主管部门备案，但入口处公示牌被施工围挡遮挡，公示不到位。",
            "当日出口缴费设备因网络故障停用约{min}分钟，现场应急处置不及时。",
            "目前接送机车辆在停车场享有15分钟免费时长，高峰时段确有车辆在出发层高架违停等候的情况。",
        ],
        measures: &[
            "多收的费用已原路退还，请注意查收。",
            "已对计费系统进行升级，并在各停车场入口重新设置收费公示牌。",
            "已制定出口设备故障应急预案，故障时立即开启全部人工通道。",
            "您提出的延长免费时间建议已纳入停车收费方案的修订研究。",
        ],
    },
    Topic {
        sub: "停车场管理",
        weight: 4.0,
        audience: Audience::Passenger,
        place: Place::Parking,
        decline: DeclineReason::LitigationOrArbitration,
        decline_p: 0.03,
        issues: &[
            issue(
                "停车场车辆被剐蹭无人处理",
                PUB,
                &[
                    "{date}我把车停在{park}，回来发现车门被剐了一道很长的痕迹，找管理员调监控，说那个位置的监控坏了。",
                    "出差回来发现停在{park}的车后保险杠被撞坏，肇事车辆早就走了，停车场说不负责。",
                ],
                &["要求停车场协助调取监控查找肇事车辆。", "希望停车场承担相应的管理责任。"],
            )
            .fit(&[0], &[0, 3]),
            issue(
                "停车场指示不清找不到车位",
                PUB,
                &[
                    "{park}门口的指示屏显示还有空位，进去转了{min_s}分钟一个车位都找不到。",
                    "{park}里面的区域编号很乱，{date}我取车找了{min}分钟，差点误了接人。",
                ],
                &["希望更新车位引导系统。", "建议增加反向寻车功能。"],
            )
            .fit(&[1], &[1]),
            issue(
                "停车场照明不足存在安全隐患",
                PUB,
                &[
                    "{park}负一层晚上有一大片区域灯不亮，{day}晚上我一个人去取车感觉很不安全。",
                    "{park}内的坡道很暗，标线也看不清，差点和对面的车撞上。",
                ],
                &["建议尽快修复照明设施。", "请增加夜间巡逻。"],
            )
            .kind(Suggestion)
            .fit(&[2], &[2]),
            issue(
                "停车场内车内物品被盗",
                PUB,
                &[
                    "{date}我的车停在{park}，回来发现车窗被砸，车里的{item}不见了。",
                    "停在{park}的车被人撬开，丢了{item}，已经报警，但停车场迟迟不提供监控。",
                ],
                &["请配合公安机关调查，给我一个说法。", "希望加强停车场安保。"],
            )
            .fit(&[3], &[0, 3]),
        ],
        findings: &[
            "经核查，您停车区域的监控设备当时处于维修状态，未能记录相关画面。",
            "{park}车位引导系统部分探测器故障，导致空位显示与实际不符。",
            "经现场排查，{park}共有{n}组照明灯具损坏，巡检维护不到位。",
            "我们已将相关监控资料提供给公安机关，案件正在侦办中。",
        ],
        measures: &[
            "已全面排查停车场监控设备，对损坏设备限期修复。",
            "已更换故障探测器，并在各区域增设区域编号标识。",
            "已修复损坏灯具，并将夜间巡逻频次调整为每小时一次。",
            "关于赔偿问题，建议您通过保险理赔或依法协商解决，停车场将积极配合。",
        ],
    },
    Topic {
        sub: "航班延误与信息",
        weight: 9.0,
        audience: Audience::Passenger,
        place: Place::Terminal,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.05,
        issues: &[
            issue(
                "{flight}航班延误无广播通知",
                PAX,
                &[
                    "{day}我乘坐{flight}航班从{t}飞{city}，原定晚上{pm}点起飞，一直延误了{hour}个多小时，现场没有任何广播，问工作人员也说不清楚。",
                    "{date}的{flight}航班延误，登机口的显示屏一直显示正常，直到过了起飞时间才通知延误，旅客们都很气愤。",
                    "{flight}航班{date}延误了{hour}个小时，期间没有人告诉我们原因，也没有预计起飞时间。",
                ],
                &["希望机场和航空公司及时发布航班动态。", "要求对信息发布不及时作出解释。", "请给旅客一个说法。"],
            )
            .fit(&[0], &[0]),
            issue(
                "航班延误后餐食住宿安排混乱",
                PAX,
                &[
                    "{flight}航班因天气原因取消，安排住宿的时候现场一片混乱，我们一直等到凌晨{am_s}点才坐上去酒店的车。",
                    "{date}{flight}延误，说好的餐食只发了一瓶水和一个面包，带着{age}岁孩子的旅客都没有得到照顾。",
                ],
                &["要求改进延误后的旅客服务。", "希望机场督促航空公司落实延误服务。"],
            )
            .fit(&[1], &[1, 2]),
            issue(
                "{flight}航班延误要求经济补偿",
                PAX,
                &[
                    "我的{flight}航班{date}延误{hour}小时，导致我错过了在{city}的重要会议，损失很大。",
                    "{flight}航班延误后被取消，我的后续行程和酒店全部作废，损失了{yuan_l}元。",
                ],
                &["要求机场给予经济补偿{yuan_l}元。", "要求机场和航空公司赔偿我的损失。"],
            )
            .fit(&[2], &[2]),
            issue(
                "航显屏信息与实际不符",
                PAX,
                &[
                    "{t}的航班信息屏显示{flight}正常登机，到了{gate}才知道航班早已改了登机口。",
                    "{date}航显屏上{flight}一直显示“计划”，广播却通知已经截止登机，差点误机。",
                ],
                &["希望航显信息及时准确更新。", "请核查当天的信息发布情况。"],
            )
            .at("{t}候机区")
            .fit(&[3, 0], &[0]),
            issue(
                "远机位摆渡车长时间等待",
                PAX,
                &[
                    "{flight}落地后停在远机位，我们在飞机上等了{min}分钟摆渡车才来。",
                    "{date}坐{flight}到达，下了飞机在舷梯边站了{min_s}分钟等摆渡车，天还下着雨。",
                ],
                &["希望合理调配摆渡车。", "建议尽量安排靠桥位。"],
            )
            .at("{bay}号远机位")
            .fit(&[4], &[3]),
        ],
        findings: &[
            "经查询当日运行记录，{flight}航班因流量控制延误，航站楼广播及航显信息更新存在滞后。",
            "当日受雷雨天气影响，机场共有{tens}余个航班延误，延误后服务保障压力较大，现场组织不够有序。",
            "航班延误的经济补偿由承运航空公司负责，我们已将您的诉求转交航空公司并督促其与您联系。",
            "当日航班登机口因机位调整临时变更，信息同步不及时。",
            "当日远机位保障航班集中，摆渡车调配不足。",
        ],
        measures: &[
            "已完善航班信息发布流程，要求延误信息在获知后5分钟内通过广播和航显同步发布。",
            "已修订大面积航班延误应急预案，增设延误旅客服务专区。",
            "已要求航空公司在7个工作日内与您联系协商处理。",
            "已增加高峰时段摆渡车投入，并优化机位分配。",
        ],
    },
    Topic {
        sub: "登机与值机",
        weight: 5.0,
        audience: Audience::Passenger,
        place: Place::Terminal,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.02,
        issues: &[
            issue(
                "值机柜台开放少排队时间长",
                PAX,
                &[
                    "{date}在{t}{counter}办理值机，只开了{n}个柜台，排了{min}分钟，差一点没赶上{flight}航班。",
                    "{day}早上的{flight}航班，值机区排队的人一直排到了门口，工作人员却还在慢慢聊天。",
                ],
                &["希望高峰时段多开柜台。", "请加强值机现场管理。"],
            )
            .at("{t}值机大厅")
            .fit(&[0], &[0]),
            issue(
                "登机口临时变更未通知",
                PAX,
                &[
                    "{flight}的登机口临时从{gate}改到另一头，没有广播也没有短信通知，我跑了{min_s}分钟才赶到。",
                    "{date}在{t}候机，登机口改了两次都没有通知，最后是旁边旅客告诉我的。",
                ],
                &["要求对登机口变更不通知的情况作出解释。", "希望变更时及时广播。"],
            )
            .at("{t}候机区")
            .fit(&[1], &[1]),
            issue(
                "自助值机设备故障多",
                PAX_PUB,
                &[
                    "{t}的自助值机机器有好几台显示故障，能用的几台前面都排着长队。",
                    "{date}用自助机办理行李托运，机器连续{n}次报错，没有工作人员过来帮忙。",
                ],
                &["希望及时维修自助设备。", "建议在自助区安排引导人员。"],
            )
            .at("{t}值机大厅")
            .fit(&[2], &[2]),
            issue(
                "误机后改签协调不力",
                PAX,
                &[
                    "{date}因为安检排队误了{flight}航班，到柜台要求改签，工作人员互相推诿，说不归他们管。",
                    "我的{flight}航班截载前{min_s}分钟到了柜台，工作人员坚决不给办理，也不帮忙联系。",
                ],
                &["希望机场协调航空公司为我办理改签。", "请对工作人员的处理方式进行核查。"],
            )
            .at("{t}值机大厅")
            .fit(&[3], &[3]),
        ],
        findings: &[
            "经核查当日值机柜台排班情况，早高峰时段开放柜台数量不足，未能及时启动应急增开。",
            "{flight}航班登机口因前序航班延误占用机位而临时变更，变更广播仅在原登机口播放。",
            "{t}自助值机设备中有{n}台因软件升级故障停用，维修响应不及时。",
            "值机截载时间由航空公司规定，现场工作人员在解释和协调方面存在不足。",
        ],
        measures: &[
            "已建立值机排队超时预警机制，排队超过20分钟即增开柜台。",
            "已要求登机口变更时全区域广播并短信通知旅客。",
            "已完成故障设备维修，并在自助值机区配备引导员。",
            "已对相关工作人员进行服务规范培训。",
        ],
    },
    Topic {
        sub: "行李破损与丢失",
        weight: 6.0,
        audience: Audience::Passenger,
        place: Place::Baggage,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.03,
        issues: &[
            issue(
                "托运行李箱被摔坏",
                PAX,
                &[
                    "{date}我乘坐{flight}从{city}回来，在行李转盘取行李时发现行李箱{part}被摔坏了，找行李查询处只给登记不给处理。",
                    "我的箱子是新买的，价值{yuan_l}元，托运回来{part}已经坏了，工作人员说只能按重量赔偿，我不能接受。",
                ],
                &["要求赔偿行李箱的损失。", "希望查明行李是在哪个环节损坏的。"],
            )
            .fit(&[0], &[0]),
            issue(
                "行李延误多日未送达",
                PAX,
                &[
                    "{flight}航班落地后我的托运行李没有到，登记后说第二天送到家，结果过了{n}天还没送来。",
                    "{date}到达后行李没有出来，已经{n}天了，每天打电话问都说还在查。",
                ],
                &["要求尽快找到并送回我的行李。", "要求赔偿因行李延误产生的费用。"],
            )
            .fit(&[1], &[1]),
            issue(
                "行李查询电话无人接听",
                PAX,
                &[
                    "行李丢失后我打了{n}天的行李查询电话，不是占线就是无人接听。",
                    "{date}开始联系行李查询，留了电话说会回电，到现在没有任何消息。",
                ],
                &["希望保持行李查询电话畅通。", "请尽快给我回复。"],
            )
            .at("")
            .fit(&[2], &[2]),
            issue(
                "托运行李内物品丢失",
                PAX,
                &[
                    "{date}乘坐{flight}，托运的行李箱回来后发现少了{item}，箱子的锁也被人动过。",
                    "托运的行李里放着{item}，到了以后就不见了，行李箱有被打开过的痕迹。",
                ],
                &["要求查明物品下落。", "请调取行李分拣区的监控。"],
            )
            .fit(&[3], &[0]),
            issue(
                "行李提取等候时间过长",
                PAX,
                &[
                    "{date}坐{flight}到{t}，在行李转盘等了{min}分钟行李才出来。",
                    "最近几次在{t}取行李都要等半个多小时，转盘附近连个坐的地方都没有。",
                ],
                &["希望提高行李交付速度。", "建议在转盘旁增加座椅。"],
            )
            .fit(&[4], &[3]),
        ],
        findings: &[
            "经调取行李分拣和装卸环节监控，您的行李在装卸过程中存在操作不规范的情况。",
            "经与承运航空公司核实，您的行李因中转错运至其他航站，已于次日找到。",
            "行李查询电话在航班高峰期存在接通率低的问题。",
            "经核查监控，未发现行李在本场保障环节被开启的情况，我们已将相关资料转交承运人。",
            "当日行李系统一台分拣机故障，导致行李交付时间延长。",
        ],
        measures: &[
            "已协调承运航空公司按规定与您协商赔偿事宜。",
            "已安排专人将行李送达您的住址，并对相关装卸人员进行了批评教育。",
            "已增加行李查询坐席，并开通线上查询功能。",
            "已对分拣设备进行检修，并修订行李交付时间标准。",
        ],
    },
    Topic {
        sub: "安检流程与态度",
        weight: 6.0,
        audience: Audience::Passenger,
        place: Place::Terminal,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.01,
        issues: &[
            issue(
                "安检员态度粗暴",
                PAX,
                &[
                    "{date}在{t}安检通道，一名安检员嫌我动作慢，当着很多人的面大声呵斥我。",
                    "{date}过安检时，工号{num4}的安检员翻包时把我的东西随手乱扔，我问了一句就被怼回来。",
                    "我带着{age_old}岁的母亲过安检，安检员不但不帮忙，还催着我们快点，语气非常不耐烦。",
                ],
                &["要求对该安检员进行批评教育，并向我道歉。", "希望安检人员文明执勤。"],
            )
            .at("{t}安检通道")
            .fit(&[0], &[0]),
            issue(
                "安检排队过长导致误机",
                PAX,
                &[
                    "{date}{t}安检只开了{n}条通道，排队{min}分钟，我的{flight}航班因此没赶上。",
                    "早高峰安检排队排到了值机区，现场没有人引导，也没有给快到起飞时间的旅客开通道。",
                ],
                &["要求赔偿误机造成的改签费用。", "希望高峰时段多开安检通道。"],
            )
            .at("{t}安检区")
            .fit(&[1], &[1]),
            issue(
                "安检处随身物品遗失",
                PAX,
                &[
                    "{date}在{t}过安检时，我把{item}放在筐里，过了安检门就找不到了。",
                    "我在安检通道遗落了{item}，登机后才发现，打电话问安检说没有捡到。",
                ],
                &["请帮忙调取监控查找我的物品。", "希望尽快给我回复。"],
            )
            .at("{t}安检通道")
            .fit(&[2], &[2]),
            issue(
                "安检要求丢弃物品解释不清",
                PAX,
                &[
                    "我带的一瓶{liquid}在安检被要求丢弃，我问可以不可以办理托运或者暂存，安检员说不知道。",
                    "{date}安检时我的{liquid}被没收，说超过了规定容量，但是没有任何书面说明。",
                ],
                &["希望安检说明相关规定依据。", "建议提供物品暂存服务。"],
            )
            .at("{t}安检通道")
            .fit(&[3], &[3]),
        ],
        findings: &[
            "调取当日安检通道监控核实，该安检员在执勤中存在语言生硬、解释不到位的问题。",
            "当日早高峰旅客量较大，安检通道开放数量未能及时调整。",
            "经调取监控，您的物品被后一位旅客误拿，我们已联系到该旅客。",
            "根据民航安检相关规定，液态物品随身携带有容量限制，现场人员对暂存和托运渠道告知不到位。",
        ],
        measures: &[
            "已对该安检员进行批评教育，调离一线岗位培训一周，并由班组长向您致歉。",
            "已建立安检排队实时监测，高峰时段开放全部通道，并为临近截载的旅客开设快速通道。",
            "您的物品已由失物招领处保管，请携带有效身份证件前往领取或申请邮寄。",
            "已在安检区增设禁限带物品说明和物品暂存指引。",
        ],
    },
    Topic {
        sub: "商品与餐饮价格",
        weight: 5.0,
        audience: Audience::Passenger,
        place: Place::Terminal,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.02,
        issues: &[
            issue(
                "候机楼餐饮价格过高",
                PAX_PUB,
                &[
                    "{t}候机区一家{shop}里，{food}卖到{yuan}元，比市区贵了好几倍。",
                    "{date}在{t}吃了一顿简单的{food}，花了{yuan}元，而且分量很少。",
                ],
                &["希望机场落实“同城同质同价”。", "请对商户价格进行检查。"],
            )
            .fit(&[1], &[1, 3]),
            issue(
                "明码标价与实际收费不符",
                PAX,
                &[
                    "{date}在{t}一家{shop}买了{food}，标价和结账价格不一样，多收了{yuan_s}元。",
                    "{t}{area}的{shop}价签上写的是优惠价，结账按原价收，我指出来店员还不承认。",
                ],
                &["要求退还多收的钱，并处理这家店。", "请加强对商户价格的监管。"],
            )
            .fit(&[0], &[0]),
            issue(
                "商店售卖过期食品",
                PAX,
                &[
                    "{date}在{t}{shop}买的{snack}，上了飞机才发现已经过期{n}天。",
                    "我在{t}候机区买的{snack}，打开后有异味，一看生产日期早就过了保质期。",
                ],
                &["要求退货并赔偿。", "请对这家店进行检查处理。"],
            )
            .fit(&[2], &[2]),
            issue(
                "增设平价餐饮和免费饮水点",
                PAX_PUB,
                &[
                    "{t}候机区吃饭选择太少，最便宜的一份快餐也要{yuan}元，很多老人舍不得买。",
                    "{t}{area}找不到免费饮水点，只能去店里买水。",
                ],
                &["建议增设平价餐饮档口。", "建议增加免费饮水点。"],
            )
            .kind(Suggestion)
            .fit(&[3], &[3]),
        ],
        findings: &[
            "经商业管理公司现场检查，该商户存在价签更新不及时、结算价格与标价不符的问题。",
            "经核查，该商户所售商品价格已按规定备案，但部分商品价格明显高于市区同类商品。",
            "经现场检查，该店货架上有{n}种商品超过保质期，情况属实。",
            "航站楼内目前设有平价餐饮点{n}处，分布和标识有待完善。",
        ],
        measures: &[
            "已责令该商户退还多收的款项并限期整改，按租赁合同约定扣减其服务质量保证金。",
            "已对全部餐饮商户开展价格专项检查，要求在醒目位置公示价格。",
            "已将相关情况通报市场监管部门，该商户已下架全部过期商品并作出书面整改承诺。",
            "已在候机区新增平价餐饮档口和直饮水点，并在航站楼导向标识中标注位置。",
        ],
    },
    Topic {
        sub: "商户租赁",
        weight: 3.0,
        audience: Audience::Business,
        place: Place::Terminal,
        decline: DeclineReason::LitigationOrArbitration,
        decline_p: 0.10,
        issues: &[
            issue(
                "续租租金上涨幅度过大",
                TEN,
                &[
                    "我在{t}{area}经营一家{shop}，今年续租时租金一下子上涨了{pct}%，按现在的客流根本承受不了。",
                    "我们店每个月的租金已经占到营业额的一半，新合同又要求涨价{pct}%，实在做不下去了。",
                ],
                &["希望合理确定租金标准，给予适当减免。", "请商业管理公司和商户坐下来协商。"],
            )
            .group()
            .fit(&[0], &[0, 3]),
            issue(
                "合同到期续约条件不公平",
                TEN,
                &[
                    "我们几家商户的合同{month}月底到期，商业公司突然通知要重新招标，以前投入的装修费都打了水漂。",
                    "续约时商业公司要求签补充协议，增加了很多对商户不利的条款，不签就不让续租。",
                ],
                &["要求公开招商规则，给老商户同等条件下优先续约的机会。", "希望给予合理的过渡期。"],
            )
            .group()
            .fit(&[3], &[2, 3]),
            issue(
                "撤场后装修押金迟迟不退",
                TEN,
                &[
                    "去年{month}月合同到期撤场，{wan}万元装修押金到现在还没退，找了几次都说在走流程。",
                    "撤场验收已经通过{months}个月了，押金一直不退，每次问都推给别的部门。",
                ],
                &["要求尽快退还押金。", "请给一个明确的退还时间。"],
            )
            .at("")
            .fit(&[1], &[1]),
            issue(
                "航站楼改造影响经营要求减免租金",
                TEN,
                &[
                    "{t}改造施工把我们店门口围起来了，旅客根本看不到店面，这{months}个月营业额下降了一大半，租金却一分没少。",
                    "航站楼施工导致我们的店铺断水断电了{n}天，没办法营业，商业公司也没有任何说法。",
                ],
                &["要求减免施工期间的租金。", "希望赔偿停业期间的损失。"],
            )
            .fit(&[2], &[0]),
        ],
        findings: &[
            "经核查，本次租金调整依据第三方评估结果确定，但与商户的沟通解释工作不够充分。",
            "经核查，您的押金退还手续已完成验收，因财务审批流程较长尚未支付。",
            "航站楼改造施工确实对周边商户经营造成影响，施工前的告知和协商不到位。",
            "该铺位重新招商系按照集团商业资源配置规定执行，程序合规。",
        ],
        measures: &[
            "已组织召开商户座谈会，对受施工影响的商户按影响程度给予租金减免。",
            "押金已于近日退还至您的账户，并已要求简化押金退还审批流程。",
            "已明确在同等条件下老商户享有优先续约权，并给予三个月过渡期。",
            "对于合同争议部分，建议双方协商解决，协商不成可依据合同约定申请仲裁。",
        ],
    },
    Topic {
        sub: "设施设备",
        weight: 5.0,
        audience: Audience::Passenger,
        place: Place::Terminal,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.01,
        issues: &[
            issue(
                "增加航站楼卫生间数量",
                PAX_PUB,
                &[
                    "{t}{area}的女卫生间每次都要排长队，{date}我排了{min_s}分钟，差点误了登机。",
                    "{t}{area}附近只有一处卫生间，离登机口很远，带孩子的旅客很不方便。",
                ],
                &["建议增加卫生间厕位。", "建议增设第三卫生间。"],
            )
            .fit(&[0], &[0]),
            issue(
                "电梯扶梯经常停运",
                PAX_PUB,
                &[
                    "{t}到达层通往停车楼的扶梯已经停了{n}天，推着行李车只能绕很远去坐直梯。",
                    "{date}在{t}坐电梯，电梯突然停在半中间，被困了{min_s}分钟才有人来。",
                ],
                &["要求尽快修复并查明原因。", "请加强电梯日常维保。"],
            )
            .kind(Appeal)
            .at("{t}到达层")
            .fit(&[1], &[1]),
            issue(
                "增设候机区充电插座",
                PAX,
                &[
                    "{t}{area}的充电插座太少，而且很多都不能用，{date}我手机没电差点耽误了电子登机牌。",
                    "候机的座位附近基本找不到能用的插座，大家都挤在柱子旁边充电。",
                ],
                &["建议增加充电插座和共享充电设备。", "希望定期检查插座是否能用。"],
            )
            .fit(&[2], &[2]),
            issue(
                "候机区空调温度不适",
                PAX,
                &[
                    "{date}在{t}{area}候机，空调开得太冷，很多旅客都冷得发抖，问工作人员也不给调。",
                    "{t}{area}空调好像坏了，闷热得很，{date}候机的两个小时里大家都在扇扇子。",
                ],
                &["希望调整候机区的空调温度。", "请检修空调设备。"],
            )
            .kind(Appeal)
            .fit(&[3], &[3]),
            issue(
                "航站楼无线网络连接困难",
                PAX_PUB,
                &[
                    "{t}的免费WiFi认证要填很多信息，连上以后网速也很慢，基本用不了。",
                    "在{t}{area}候机时WiFi一直连不上，短信验证码也收不到。",
                ],
                &["建议优化航站楼无线网络。", "希望简化上网认证流程。"],
            )
            .fit(&[4], &[4]),
        ],
        findings: &[
            "经现场核查，{t}{area}卫生间高峰时段排队问题属实，现有厕位数量不能满足需求。",
            "该扶梯因驱动部件故障停运，备件采购周期较长，维修期间的指引和公告不到位。",
            "经排查，{t}候机区有{tens}余个充电插座损坏。",
            "当日该区域空调系统温控传感器故障，导致温度异常。",
            "经检测，{t}部分区域无线接入点老化，认证短信通道存在延迟。",
        ],
        measures: &[
            "已在{t}{area}增设临时卫生间并调整保洁频次，永久性改造已列入明年改造计划。",
            "扶梯已修复投入使用，并要求维保单位对全楼扶梯开展专项检查。",
            "已更换损坏插座，并在候机区新增充电桩{tens}个。",
            "已完成空调温控系统检修，并安排专人每两小时巡查候机区温度。",
            "已完成无线网络扩容升级，并简化为手机号一键认证。",
        ],
    },
    Topic {
        sub: "无障碍与特殊旅客",
        weight: 3.0,
        audience: Audience::Passenger,
        place: Place::Terminal,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.01,
        issues: &[
            issue(
                "轮椅服务等待时间过长",
                PAX,
                &[
                    "{date}我陪{age_old}岁的父亲乘坐{flight}到达，提前预约了轮椅服务，落地后等了{min}分钟都没人来。",
                    "我腿脚不便，{date}在{t}申请轮椅，工作人员说人手不够让我自己先走。",
                ],
                &["希望改进轮椅服务。", "要求对服务不到位作出解释。"],
            )
            .kind(Appeal)
            .fit(&[0], &[0]),
            issue(
                "母婴室设施简陋经常上锁",
                PAX,
                &[
                    "{t}{area}的母婴室{date}上锁了，找了半天工作人员才来开门，里面连个热水都没有。",
                    "带着{age}个月的宝宝出行，{t}的母婴室太少了，有一间里面的尿布台还是坏的。",
                ],
                &["建议母婴室全天开放并完善设施。", "希望增加母婴室数量。"],
            )
            .fit(&[1], &[1]),
            issue(
                "增加老年旅客引导服务",
                PUB,
                &[
                    "我父母第一次坐飞机，{date}在{t}不会用自助机，也找不到值机柜台，转了很久才问到人。",
                    "现在很多服务都要用手机扫码，老年人根本不会操作，航站楼里也很难找到帮忙的人。",
                ],
                &["建议设立老年旅客爱心服务台。", "建议保留人工服务窗口。"],
            )
            .at("{t}值机大厅")
            .fit(&[2], &[2]),
            issue(
                "无障碍通道被占用",
                PUB,
                &[
                    "{t}门口的无障碍坡道被送客的车堵住了，我推着轮椅根本上不去。",
                    "{park}的无障碍停车位经常被普通车辆占用，{date}我转了{n}圈都没有位置。",
                ],
                &["希望加强无障碍设施的管理。", "请对占用无障碍车位的行为进行处理。"],
            )
            .kind(Appeal)
            .at("{t}出发层")
            .fit(&[3], &[3]),
        ],
        findings: &[
            "经核查当日服务记录，轮椅服务因同时段需求集中、调度不及时，导致等候时间过长。",
            "经现场检查，{t}{area}母婴室存在管理人员离岗后上锁、设施维护不及时的问题。",
            "目前航站楼设有爱心服务台{n}处，但标识不够醒目，服务人员配置不足。",
            "经核查，无障碍通道及车位被占用的情况时有发生，现场管理存在盲区。",
        ],
        measures: &[
            "已增加轮椅服务人员，并对预约旅客实行落地前专人对接。",
            "母婴室已调整为全天开放，并补充了热水、尿布台等设施。",
            "已在值机大厅增设爱心服务台，为老年旅客提供全程引导服务。",
            "已安排专人巡查无障碍通道和车位，对占用车辆及时劝离。",
        ],
    },
    Topic {
        sub: "工作人员态度",
        weight: 4.0,
        audience: Audience::Passenger,
        place: Place::Terminal,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.02,
        issues: &[
            issue(
                "问询台工作人员态度不耐烦",
                PAX_PUB,
                &[
                    "{date}在{t}问询台问登机口怎么走，工作人员头也不抬，说了一句“自己看屏幕”。",
                    "{date}我在{t}问询台咨询转机的事情，一名女工作人员很不耐烦，问第二遍就开始翻白眼。",
                ],
                &["希望对该工作人员进行教育。", "请提升问询服务水平。"],
            )
            .at("{t}问询台")
            .fit(&[0], &[0]),
            issue(
                "服务热线多次转接无人解决问题",
                PUB,
                &[
                    "我打机场服务热线反映问题，被转接了{n}次，每个人都让我重新说一遍，最后也没人解决。",
                    "{date}开始我打了{n}次机场服务热线，每次都说会有专人回电，到现在没有任何人联系我。",
                ],
                &["希望热线能真正解决问题，而不是踢皮球。", "请尽快安排专人处理我的问题。"],
            )
            .at("")
            .fit(&[1], &[1]),
            issue(
                "工作人员上班时间玩手机",
                PAX_PUB,
                &[
                    "{date}在{t}{area}，引导岗位的两名工作人员一直在玩手机，旅客问路都不理。",
                    "{t}{counter}的工作人员边办业务边刷视频，办错了我的信息还不承认。",
                ],
                &["请加强对工作人员的管理。", "希望给我一个处理结果。"],
            )
            .fit(&[2], &[2]),
            issue(
                "引导人员指错路导致误机",
                PAX,
                &[
                    "{date}我问引导员{flight}在哪个登机口，他指了相反方向，我走到头才发现错了，最后没赶上飞机。",
                    "{t}的引导员把我引到了国际出发区，耽误了{min_s}分钟，改签花了{yuan}元。",
                ],
                &["要求赔偿改签费用。", "希望加强引导人员培训。"],
            )
            .kind(Appeal)
            .at("{t}候机区")
            .fit(&[3], &[3]),
        ],
        findings: &[
            "调取当日监控和录音核实，该工作人员在服务中存在态度生硬、解释不耐心的问题。",
            "经核查热线工单记录，您的来电存在多次转接、回访未落实的情况。",
            "经调查，该岗位工作人员确有在岗期间使用手机的违规行为。",
            "经核查，引导人员对当日登机口变更信息掌握不及时，导致指引错误。",
        ],
        measures: &[
            "已对该员工进行批评教育并扣减当月绩效，由部门负责人向您致歉。",
            "已优化热线首问负责制，要求热线问题一次受理、全程跟踪。",
            "已在全员中开展服务作风专项整顿，严禁在岗期间玩手机。",
            "已协调为您报销改签费用，并对引导岗位人员开展业务培训。",
        ],
    },
    Topic {
        sub: "施工噪音与扬尘",
        weight: 3.0,
        audience: Audience::Community,
        place: Place::Community,
        decline: DeclineReason::LitigationOrArbitration,
        decline_p: 0.02,
        issues: &[
            issue(
                "{project}夜间施工噪音扰民",
                RES,
                &[
                    "{project}最近每天晚上施工到凌晨{am_s}点，打桩机的声音震得窗户都在响，我们村的老人孩子根本睡不着。",
                    "{since}，{village}{dir}边的工地天天晚上施工，我们多次找工地反映都没有用。",
                    "{day}半夜工地还在用大型机械作业，我打电话给项目部，对方说是赶工期，让我们忍一忍。",
                ],
                &["要求禁止夜间施工。", "希望对受影响的村民给予补偿。", "请有关部门现场检查。"],
            )
            .group()
            .fit(&[0], &[0]),
            issue(
                "施工车辆扬尘严重",
                RES,
                &[
                    "拉土的渣土车每天从{village}村口经过，车上不盖篷布，路上的灰尘有一寸厚，家家户户都不敢开窗。",
                    "{project}的施工车辆把村里的道路压坏了，下雨一地泥，天晴一路灰。",
                ],
                &["要求工地落实洒水降尘措施。", "要求修复被压坏的道路。"],
            )
            .group()
            .fit(&[1], &[1]),
            issue(
                "工地围挡占用道路",
                RES,
                &[
                    "{project}的围挡把{village}通往镇上的路占了一半，大车小车挤在一起，{date}还发生了剐蹭。",
                    "工地把村里唯一的机耕道围起来了，我们下地干活要绕{km}公里。",
                ],
                &["希望恢复道路通行。", "请工地修一条临时便道。"],
            )
            .fit(&[4], &[4]),
            issue(
                "施工震动导致房屋开裂",
                RES,
                &[
                    "{project}开工以后，我家房子的墙上裂了好几道缝，{since}越裂越大，一家人住得提心吊胆。",
                    "工地爆破和打桩以后，{village}有{n}户人家的房子出现裂缝。",
                ],
                &["要求对房屋进行安全鉴定并赔偿。", "希望尽快派人来现场查看。"],
            )
            .group()
            .fit(&[2], &[2]),
            issue(
                "施工破坏农田灌溉水渠",
                RES,
                &[
                    "{project}施工把{village}的灌溉水渠填了，马上要栽秧了，地里放不进水。",
                    "工地的泥浆水直接排到我们的田里，{n}亩地的庄稼都淹了。",
                ],
                &["要求尽快恢复水渠。", "要求赔偿庄稼损失。"],
            )
            .group()
            .fit(&[3], &[3]),
        ],
        findings: &[
            "经工程建设指挥部会同监理单位现场核查，{project}施工单位存在未经审批夜间施工的情况。",
            "经现场检查，渣土运输车辆存在未覆盖、未冲洗出场的问题。",
            "经第三方机构对{village}受影响房屋进行安全鉴定，部分房屋裂缝与施工震动存在关联。",
            "经核查，施工中确有损坏灌溉水渠的情况，施工单位事前未与村组沟通。",
            "经现场查看，{project}施工围挡超出审批范围占用村道，影响村民通行。",
        ],
        measures: &[
            "已责令施工单位停止22时至次日6时的施工作业，确需连续施工的须报批并提前公告。",
            "已要求施工单位增设洒水车，出入口设置车辆冲洗设施，并修复受损路面。",
            "已组织施工单位与受影响村民协商赔偿方案，并对房屋进行加固维修。",
            "水渠已于近日修复恢复通水，庄稼损失按评估结果予以补偿。",
            "已责令施工单位后移围挡，并修建临时便道保障村民通行。",
        ],
    },
    Topic {
        sub: "飞机噪音",
        weight: 3.0,
        audience: Audience::Community,
        place: Place::Community,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.03,
        issues: &[
            issue(
                "新航线起降噪音影响睡眠",
                RES,
                &[
                    "{since}，飞机从{village}头顶低空飞过，几分钟就一架，白天晚上都不停，家里说话都听不清。",
                    "我家离跑道不到两公里，{since}晚上{pm}点以后还一直有飞机起降，我母亲血压高，长期睡不好觉。",
                ],
                &["要求调整航线或限制夜间航班。", "要求对受噪音影响的住户给予补偿。"],
            )
            .group()
            .fit(&[0, 1], &[0, 1, 3]),
            issue(
                "为噪音区学校安装隔音窗",
                RES,
                &[
                    "{village}小学就在航线下面，飞机一过老师讲课就要停下来，孩子们上课受影响很大。",
                    "我的孩子在{village}上学，{since}上课经常被飞机噪音打断，孩子回家说听不清老师讲课。",
                ],
                &["建议为学校安装隔音门窗。", "希望尽快解决学校的噪音问题。"],
            )
            .kind(Suggestion)
            .group()
            .at("{village}小学")
            .fit(&[2], &[2]),
            issue(
                "飞机噪音补偿标准和范围",
                RES,
                &[
                    "听说机场对噪音区的住户有补偿，我家住在{village}，想问一下补偿的范围和标准是什么，怎么申请？",
                    "隔壁村都安装了隔音窗，我们{village}离跑道更近却没有，请问是按什么标准划定的？",
                ],
                &["请告知具体政策。", "希望把我们村纳入治理范围。"],
            )
            .kind(Inquiry)
            .answer("机场噪音治理范围依据噪声监测结果和相关标准划定，噪音敏感区内的住户可通过所在村（社区）统一申报，由工程建设指挥部会同属地政府组织核查后实施隔音改造或货币补偿。")
            .fit(&[], &[3, 1]),
        ],
        findings: &[
            "根据噪声监测数据，{village}部分区域夜间噪声值超过标准限值。",
            "新航线启用后，{village}上空的航空器飞越架次明显增加，对居民生活造成了影响。",
            "{village}小学位于噪音敏感区内，已列入本年度噪音治理计划。",
        ],
        measures: &[
            "已会同空管部门优化夜间起降程序，尽量减少23时后航班从居民区上空飞越。",
            "已将{village}受影响住户纳入隔音窗安装第二批实施范围。",
            "学校隔音门窗改造将于暑假期间完成施工。",
            "已在{village}增设噪声自动监测点，监测数据定期向村民公开。",
        ],
    },
    Topic {
        sub: "征地与拆迁补偿",
        weight: 2.0,
        audience: Audience::Community,
        place: Place::Community,
        decline: DeclineReason::LitigationOrArbitration,
        decline_p: 0.15,
        issues: &[
            issue(
                "扩建征地补偿款迟迟未发放",
                RES,
                &[
                    "机场扩建征用了我们{village}的土地，按协议补偿款应该在{month}月前发放，到现在还有{wan}万元没有到位。",
                    "我家{n}亩承包地被征用，{since}一直没拿到补偿款，找村里村里说在等机场拨款。",
                ],
                &["要求尽快足额发放补偿款。", "希望公开补偿款的发放明细。"],
            )
            .group()
            .fit(&[0], &[0]),
            issue(
                "安置房质量问题",
                RES,
                &[
                    "我们搬进安置小区才{months}个月，墙面就开始渗水，卫生间漏水漏到楼下。",
                    "安置房的外墙砖大面积脱落，{date}差点砸到楼下的小孩，物业说要找开发单位。",
                ],
                &["要求维修并查明质量问题的责任。", "请组织对安置房进行质量检测。"],
            )
            .group()
            .at("空港安置小区")
            .fit(&[1], &[1]),
            issue(
                "青苗和地上附着物补偿偏低",
                RES,
                &[
                    "征地时我家地里种的果树和大棚，补偿标准比隔壁村低了很多，我们不服。",
                    "丈量附着物的时候漏登了我家的{n}间圈舍，后来去补登一直不给办。",
                ],
                &["要求重新核定补偿标准。", "要求补登漏登的附着物。"],
            )
            .fit(&[2], &[2, 4]),
            issue(
                "过渡安置费停发",
                RES,
                &[
                    "拆迁以后我们一家在外面租房过渡，过渡费从{month}月份开始就停发了，安置房还没有交付。",
                    "{village}拆迁户的过渡费已经{months}个月没有发了，房租全靠自己垫。",
                ],
                &["要求补发过渡安置费。", "要求明确安置房的交付时间。"],
            )
            .group()
            .fit(&[3], &[3]),
            issue(
                "失地农民社保未落实",
                RES,
                &[
                    "土地被征用以后，承诺的失地农民养老保险到现在还没有办下来，我今年已经{age_old}岁了。",
                    "我们{village}失地农民的社保一直没有着落，问了几个部门都说不归他们管。",
                ],
                &["要求落实失地农民养老保险。", "希望给个明确的答复。"],
            )
            .fit(&[4], &[5]),
        ],
        findings: &[
            "经核查，{village}征地补偿款已由集团足额拨付至属地政府，部分款项因权属争议暂缓发放。",
            "经组织第三方检测，安置小区部分楼栋存在外墙防水施工质量问题。",
            "附着物补偿标准按照属地政府公布的统一标准执行，漏登问题经复核属实。",
            "过渡安置费因安置房交付延期出现发放衔接问题，情况属实。",
            "经核查，{village}失地农民养老保险参保工作由属地人社部门负责，相关名单已于近期报送。",
        ],
        measures: &[
            "已会同属地政府加快权属确认，无争议部分将在一个月内发放到位。",
            "已责成施工单位对问题房屋进行维修，维修期间的损失由责任单位承担。",
            "已组织对漏登附着物进行补登，补偿款随下一批次发放。",
            "过渡安置费已补发到位，并明确至安置房交付前按月发放。",
            "对补偿标准有异议的，可依法申请行政复议或提起行政诉讼。",
            "已会同属地政府人社部门明确办理时限，符合条件的人员将于下月纳入参保。",
        ],
    },
    Topic {
        sub: "劳资薪酬",
        weight: 3.0,
        audience: Audience::Staff,
        place: Place::Office,
        decline: DeclineReason::LitigationOrArbitration,
        decline_p: 0.10,
        issues: &[
            issue(
                "加班费未按规定发放",
                EMP,
                &[
                    "我是{post}，春运期间连续上了{n}个夜班，加班费一直没有发，问班组长说没有加班审批单。",
                    "我们部门{since}节假日加班都是调休，但是调休根本休不了，加班费也不给。",
                ],
                &["要求按规定足额发放加班费。", "希望公开加班费的计算办法。"],
            )
            .group()
            .fit(&[0], &[0]),
            issue(
                "外包员工工资被拖欠",
                DIS,
                &[
                    "我是外包公司派到机场做{post}的，公司已经{months}个月没发工资了，一共欠我{yuan_l}元。",
                    "我们{tens}多个外包员工的工资被拖欠，外包公司老板不接电话，我们只能找机场。",
                ],
                &["要求机场督促外包公司尽快发放工资。", "要求结清拖欠的工资。"],
            )
            .group()
            .fit(&[1], &[1, 5]),
            issue(
                "农民工工资被拖欠",
                WRK,
                &[
                    "我们是在{project}干活的农民工，从{month}月份干到现在，工资一分没拿到，一共{wan}万多元。",
                    "{project}的分包老板跑了，我们{tens}个工人的工资没人管，眼看就要过年了。",
                    "我在{project}干了{months}个月，包工头说总包没给钱，总包说钱已经付了，我们夹在中间拿不到钱。",
                ],
                &["要求尽快结清拖欠的工资。", "希望机场督促总包单位先行垫付。"],
            )
            .group()
            .at("{project}工地")
            .fit(&[2], &[2]),
            issue(
                "绩效考核扣款不合理",
                EMP,
                &[
                    "我上个月因为一次旅客投诉被扣了{yuan}元绩效，投诉根本不是我的责任，申诉也没人理。",
                    "部门的绩效考核标准说改就改，也没有公示，我这个季度莫名其妙被扣了{yuan}元。",
                ],
                &["要求重新核定我的绩效。", "希望绩效考核标准公开透明。"],
            )
            .fit(&[3], &[3]),
            issue(
                "派遣员工同工不同酬",
                DIS,
                &[
                    "我是劳务派遣员工，干的活和正式员工一样，工资却只有他们的一半，年终奖也没有。",
                    "我在机场做了{years}年派遣工，转正的事情一直没有下文，福利待遇和在编员工差别很大。",
                ],
                &["希望落实同工同酬。", "希望给派遣员工转正的通道。"],
            )
            .fit(&[4], &[4]),
        ],
        findings: &[
            "经人力资源部核查，您所在班组春运期间的加班确未按规定履行审批手续，导致加班费未能发放。",
            "经核查，该外包公司确实存在拖欠员工工资的情况，集团已按合同暂停向其支付服务费。",
            "经工程建设指挥部核实，{project}分包单位拖欠农民工工资情况属实，总包单位负有监管责任。",
            "经复核，您的绩效扣款依据不充分。",
            "派遣员工薪酬按照劳务派遣协议执行，部分岗位确实存在待遇差距。",
        ],
        measures: &[
            "已责成所在部门补办审批手续，加班费将随下月工资一并补发。",
            "已约谈外包公司负责人，拖欠工资已于本月底前全部结清。",
            "已督促总包单位动用农民工工资保证金先行垫付，拖欠工资已全部发放到位。",
            "已撤销对您的绩效扣款，并要求部门考核标准公示后执行。",
            "已将派遣员工薪酬调整纳入年度薪酬改革方案统筹研究。",
            "如对处理结果仍有异议，可向劳动人事争议仲裁委员会申请仲裁。",
        ],
    },
    Topic {
        sub: "转岗分流",
        weight: 2.0,
        audience: Audience::Staff,
        place: Place::Office,
        decline: DeclineReason::LitigationOrArbitration,
        decline_p: 0.05,
        issues: &[
            issue(
                "转岗后岗位与技能不匹配",
                EMP,
                &[
                    "我原来是{post}，干了{years}年，机构改革把我转到了完全不熟悉的岗位，也没有任何培训。",
                    "转岗以后我被安排去做{post}，我今年{age_mid}岁了，身体吃不消，申请调整一直没有回复。",
                ],
                &["希望安排与本人技能相匹配的岗位。", "请组织岗前培训。"],
            )
            .fit(&[0], &[0]),
            issue(
                "分流安置方案未征求员工意见",
                EMP,
                &[
                    "这次分流安置方案没有经过职代会讨论，也没有征求我们员工的意见，就直接公布了。",
                    "我们{tens}多名员工被列入分流名单，分流的标准是什么，谁定的，都不公开。",
                ],
                &["要求公开分流方案的制定过程和标准。", "希望召开职工代表大会讨论。"],
            )
            .group()
            .fit(&[1], &[1]),
            issue(
                "异地分流通勤困难",
                EMP,
                &[
                    "我被分流到离家{km_l}公里外的货运基地上班，每天来回要三个多小时，班车也不到。",
                    "分流以后上班地点变了，我家里有老人要照顾，实在没办法每天跑那么远。",
                ],
                &["希望开通通勤班车或者给予交通补助。", "希望照顾家庭困难员工。"],
            )
            .at("东区货运基地")
            .fit(&[0], &[2]),
            issue(
                "转岗后工资待遇下降",
                EMP,
                &[
                    "转岗以后岗位工资降了两级，每个月少了{yuan_l}元，当初说好待遇不降的。",
                    "我们{n}个人转岗后工资都降了，跟当初宣讲的政策不一样。",
                ],
                &["要求落实转岗后待遇不降的承诺。", "请给一个书面答复。"],
            )
            .group()
            .fit(&[2], &[3]),
        ],
        findings: &[
            "经人力资源部核查，本次机构调整中部分员工岗位调整前的沟通和培训工作不够到位。",
            "分流安置方案已经集团党委会研究，但职工民主程序履行不够充分。",
            "经核查，转岗员工过渡期内应执行原岗位工资标准，所在单位执行有偏差。",
        ],
        measures: &[
            "已为您安排为期一个月的岗前培训，并将根据培训考核结果进一步调整岗位。",
            "已决定将分流安置方案提交职工代表大会审议，并设立三个月过渡期。",
            "已开通货运基地通勤班车，对家庭困难员工优先考虑就近安置。",
            "已补发过渡期工资差额，并对执行偏差的单位进行了通报。",
        ],
    },
    Topic {
        sub: "员工生活保障",
        weight: 2.0,
        audience: Audience::Staff,
        place: Place::Office,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.01,
        issues: &[
            issue(
                "优化员工班车线路",
                EMP_DIS,
                &[
                    "员工班车早上{am_s}点多就要到站，夜班下班以后没有班车，我们只能打车回家。",
                    "{district}方向住的员工很多，但班车绕路太远，单程要一个半小时。",
                ],
                &["建议增开夜班班车。", "建议优化班车线路和发车时间。"],
            )
            .at("")
            .fit(&[1], &[1]),
            issue(
                "员工宿舍热水经常中断",
                EMP_DIS,
                &[
                    "西区员工宿舍{since}经常没有热水，{day}下夜班回来洗不了澡。",
                    "员工宿舍{n}号楼的热水器坏了一个多星期，报修了好几次都没人来修。",
                ],
                &["要求尽快修复热水设施。", "请物业公司加快报修响应。"],
            )
            .kind(Appeal)
            .at("西区员工宿舍")
            .fit(&[0], &[0]),
            issue(
                "员工食堂价格上涨菜品单一",
                EMP_DIS,
                &[
                    "员工食堂这个月每份饭涨了{yuan_s}元，菜品却越来越少，基本天天都是那几样。",
                    "夜班员工去食堂的时候经常已经没饭了，只剩下方便面。",
                ],
                &["建议公开食堂成本和定价。", "建议为夜班员工提供夜宵。"],
            )
            .at("西区员工食堂")
            .fit(&[2], &[2]),
            issue(
                "夜班员工休息室不足",
                EMP,
                &[
                    "我们班组{tens}多个人上夜班，休息室只有一间，很多人只能在更衣室凳子上躺一会儿。",
                    "机坪一线员工的休息室夏天没有空调，冬天没有暖气。",
                ],
                &["建议增设夜班休息室。", "建议改善休息室条件。"],
            )
            .at("机坪作业区")
            .fit(&[3], &[3]),
        ],
        findings: &[
            "经物业管理公司核查，员工宿舍热水系统因管道老化多次故障，报修响应不及时。",
            "员工班车线路已运行多年，与员工居住分布变化不相适应。",
            "员工食堂本次价格调整系因原材料成本上涨，但未提前公示征求意见。",
            "经现场查看，一线员工休息场所确实存在面积不足、设施简陋的问题。",
        ],
        measures: &[
            "已完成热水管道更换，并承诺报修后2小时内到场处理。",
            "已开展员工居住地调查，新增夜班班车线路{n}条。",
            "已在食堂增设平价套餐窗口，并为夜班员工提供夜宵。",
            "已腾挪出{n}间用房改造为夜班休息室，配置空调和床铺。",
        ],
    },
    Topic {
        sub: "物业与卸货",
        weight: 2.0,
        audience: Audience::Business,
        place: Place::Terminal,
        decline: DeclineReason::OutOfScope,
        decline_p: 0.01,
        issues: &[
            issue(
                "调整商户卸货区时间",
                TEN,
                &[
                    "商户卸货时间只安排在凌晨{am_s}点到6点，供货商不愿意这么早送货，我们店里经常断货。",
                    "卸货区车位太少，{date}我们的货车排了{min}分钟才卸上货，还被保安催着赶走。",
                ],
                &["建议增加白天的卸货时段。", "建议扩大卸货区。"],
            )
            .at("{t}商户卸货区")
            .fit(&[0], &[0]),
            issue(
                "垃圾清运不及时有异味",
                TEN_EMP,
                &[
                    "{t}{area}后面的垃圾中转点{since}经常堆满了没人清，夏天臭味飘到候机区。",
                    "餐饮商户集中的区域垃圾一天只清一次，{day}晚上垃圾桶旁边都是苍蝇。",
                ],
                &["要求增加垃圾清运频次。", "请物业加强保洁管理。"],
            )
            .kind(Appeal)
            .fit(&[1], &[1]),
            issue(
                "物业维修响应慢",
                TEN_EMP,
                &[
                    "我们店铺的下水道堵了，{date}报修，物业{n}天以后才来人。",
                    "办公区的空调坏了一个星期，报修了三次，物业每次都说马上来。",
                ],
                &["要求物业提高维修效率。", "请明确报修的响应时限。"],
            )
            .kind(Appeal)
            .fit(&[2], &[2]),
            issue(
                "商户物业费收费标准不明",
                TEN,
                &[
                    "物业公司今年的物业费涨了{pct}%，又新加了一项公共能耗分摊费，没有任何说明。",
                    "我们商户每个月交的物业费清单上有{n}项费用说不清是什么。",
                ],
                &["要求公开物业费的收费依据。", "请核减不合理的收费项目。"],
            )
            .kind(Appeal)
            .at("")
            .fit(&[3], &[3]),
        ],
        findings: &[
            "经物业管理公司核查，卸货时段安排主要考虑航站楼客流高峰，但对商户经营需求考虑不够。",
            "经现场检查，{t}垃圾中转点清运频次不足，夏季高温时段异味明显。",
            "经核查，您的报修记录存在派单不及时的问题。",
            "公共能耗分摊费系根据新签物业合同收取，但事前与商户的沟通不充分。",
        ],
        measures: &[
            "已新增10:00至11:30白天卸货时段，并在卸货区增设临时车位。",
            "已将餐饮区垃圾清运调整为每日三次，并对中转点进行除臭消杀。",
            "已建立报修工单超时督办机制，一般维修2小时内到场。",
            "已向全体商户书面说明物业费构成，并组织商户代表进行了座谈。",
        ],
    },
    Topic {
        sub: "安全隐患",
        weight: 2.0,
        audience: Audience::Staff,
        place: Place::Airside,
        decline: DeclineReason::InsufficientInformation,
        decline_p: 0.01,
        issues: &[
            issue(
                "停机坪附近违规吸烟",
                SAFETY,
                &[
                    "{date}我看到{bay}号机位附近有保障人员在加油车旁边吸烟，这是很大的安全隐患。",
                    "机坪作业区经常有人躲在行李拖车后面抽烟，{since}我看到过好几次。",
                ],
                &["请加强机坪安全管理，严肃处理违规人员。", "建议加大巡查力度。"],
            )
            .at("{bay}号机位附近")
            .fit(&[0], &[0]),
            issue(
                "消防通道被杂物堵塞",
                SAFETY,
                &[
                    "{t}{area}后面的消防通道堆满了商户的货物和纸箱，{date}我路过的时候连人都过不去。",
                    "员工宿舍的消防通道被电动车堵死了，楼道里还有人私拉电线给电动车充电。",
                ],
                &["要求立即清理消防通道。", "请开展消防安全检查。"],
            )
            .at("{t}{area}")
            .fit(&[1], &[1]),
            issue(
                "高空作业无防护措施",
                SAFETY,
                &[
                    "{project}工地有工人在{tens}米高的钢架上作业，没有系安全带，下面也没有安全网。",
                    "{date}看到{t}更换吊顶的工人站在梯子上作业，下面旅客照常通行，没有任何围挡。",
                ],
                &["要求立即整改安全隐患。", "请对施工单位进行安全检查。"],
            )
            .at("{project}工地")
            .fit(&[2], &[2]),
            issue(
                "机坪特种车辆超速行驶",
                SAFETY,
                &[
                    "机坪上的行李拖车和摆渡车经常超速，{date}在{bay}号机位附近差点撞到地面指挥人员。",
                    "{since}，机坪服务车道上有车辆逆行和超速，安全员也不管。",
                ],
                &["请加强机坪车辆管理。", "建议安装测速设备。"],
            )
            .at("西区机坪")
            .fit(&[3], &[3]),
            issue(
                "员工疲劳作业连续值夜班",
                EMP_DIS,
                &[
                    "我们班组人手严重不足，{since}每人每周要上{n}个夜班，有人在作业时打瞌睡。",
                    "为了保障春运，我们连续{n}天没有休息，疲劳作业很容易出安全事故。",
                ],
                &["要求合理安排班次，避免疲劳作业。", "希望尽快补充人员。"],
            )
            .at("")
            .fit(&[4], &[4]),
        ],
        findings: &[
            "经安全管理部组织现场检查，您反映的违规吸烟行为情况属实，涉及一家地面保障外包单位。",
            "经现场检查，该区域消防通道确有堆放杂物的情况，已当场督促清理。",
            "经检查，该作业面高空作业防护措施不到位，施工单位安全管理存在漏洞。",
            "经调取机坪车辆监控数据，{since}共发现超速行驶车辆{tens}余车次。",
            "经核查，该班组确实存在人员配置不足、排班不合理的问题。",
        ],
        measures: &[
            "已对违规人员清退出场，对所在单位进行通报并扣减安全考核分。",
            "已开展为期一个月的消防通道专项整治，并纳入日常巡查。",
            "已责令施工单位停工整改，整改验收合格后方可复工。",
            "已在机坪重点路段加装测速设备，对超速车辆驾驶员暂扣机坪驾驶证。",
            "已增补人员并调整排班，确保员工每周夜班不超过三次。",
        ],
    },
    Topic {
        sub: "违规违纪",
        weight: 1.5,
        audience: Audience::Integrity,
        place: Place::Nowhere,
        decline: DeclineReason::InsufficientInformation,
        decline_p: 0.06,
        issues: &[
            issue(
                "工作人员收受商户好处费",
                INSIDE,
                &[
                    "{dept}{boss}长期向航站楼商户索要好处费，每逢过节都要商户送购物卡，不送就在检查中找麻烦。",
                    "我在机场做生意{years}年，{dept}的{boss}多次暗示我们给他“表示表示”，否则续约时不好说。",
                ],
                &["请纪检部门调查处理。", "希望还商户一个公平的经营环境。"],
            )
            .at("")
            .fit(&[0], &[0, 1]),
            issue(
                "招标过程存在暗箱操作",
                INSIDE,
                &[
                    "{date}开标的{project}配套项目，中标单位早在开标前就已经内定，{boss}与该公司老板关系密切。",
                    "{dept}组织的物资采购招标，几次都是同一家公司中标，报价明显高于市场价。",
                ],
                &["请对招标过程进行调查。", "要求公开招标的全过程。"],
            )
            .at("")
            .fit(&[1], &[5]),
            issue(
                "公车私用",
                INSIDE,
                &[
                    "{dept}的一辆公务车{since}经常在周末出现在{district}的小区里，是{boss}家里人在用。",
                    "有一个周六，我看到单位的公务车停在市区一家酒店门口，车上下来的人拿着钓鱼竿。",
                ],
                &["请查实处理。", "希望加强公务用车管理。"],
            )
            .at("")
            .fit(&[2], &[2]),
            issue(
                "违规安排亲属进入外包单位",
                INSIDE,
                &[
                    "{dept}{boss}把自己的亲戚安排进外包单位，不用上班也照拿工资。",
                    "{boss}利用职务便利，让其亲属开办的公司承接了机场的保洁外包业务。",
                ],
                &["请纪检监察部门调查。", "要求严肃处理。"],
            )
            .at("")
            .fit(&[3], &[3]),
            issue(
                "虚开发票套取经费",
                INSIDE,
                &[
                    "{dept}{since}用虚开的会议费和培训费发票报销，套取的钱用于发放福利。",
                    "我们部门的{boss}让员工拿餐饮发票去报销办公用品，一年下来有{wan}万元。",
                ],
                &["请核查财务报销情况。", "请依规依纪处理。"],
            )
            .at("")
            .fit(&[4], &[4]),
        ],
        findings: &[
            "经纪检监察室初步核实，反映的部分问题属实，相关人员已在谈话中承认收受购物卡的事实。",
            "经调查，该项目招标程序符合规定，未发现内定中标单位的问题，反映问题查无实据。",
            "经核查公务用车使用记录和行车轨迹，该车辆确有非公务使用的情况。",
            "经核查，相关人员亲属在外包单位任职的情况属实，但未发现利用职务影响干预招聘的证据。",
            "经财务专项检查，该部门存在不规范报销的问题，涉及金额已基本查清。",
        ],
        measures: &[
            "已对相关人员给予党内警告处分，并责令退缴违纪所得。",
            "已将相关问题线索移交集团纪委依规处置。",
            "已对公车私用责任人进行诫勉谈话，并收回其车辆使用权限。",
            "已在全集团开展违规经商办企业专项排查。",
            "已对相关责任人进行问责，违规资金已全部追回。",
            "下一步将进一步规范招投标管理，邀请第三方全程监督。",
        ],
    },
    Topic {
        sub: "政策与流程咨询",
        weight: 6.0,
        audience: Audience::Public,
        place: Place::Nowhere,
        decline: DeclineReason::InsufficientInformation,
        decline_p: 0.01,
        issues: &[
            issue(
                "临时乘机证明办理",
                PAX_PUB,
                &[
                    "我的身份证{day}丢了，后天要坐{flight}去{city}，请问在机场能办临时乘机证明吗？要带什么材料？",
                    "请问身份证过期了还能不能坐飞机？在{t}哪里可以办理临时身份证明？",
                ],
                &["麻烦尽快告知。", "谢谢！"],
            )
            .answer("未携带有效身份证件的旅客可前往各航站楼值机区的公安临时乘机证明办理点办理，需本人到场并提供可核验身份的信息，办理时间约10分钟，请至少提前2小时到达机场。"),
            issue(
                "失物招领领取方式",
                PAX_PUB,
                &[
                    "我{day}在{t}{area}丢了{item}，请问失物招领处在哪里？可以委托别人领取或者邮寄吗？",
                    "我的{item}可能落在了{flight}航班上，已经离开机场了，请问怎么查询和领取？",
                ],
                &["麻烦帮忙查一下。", "请尽快回复，谢谢。"],
            )
            .answer("机场失物招领处设在T2航站楼到达层，每日8:00-22:00开放，可凭有效身份证件领取，委托他人领取需提供委托书及双方证件，也可申请到付邮寄；机上遗失物品由航空公司负责查找。"),
            issue(
                "机场大巴发车时间和票价",
                PUB,
                &[
                    "请问从机场到{district}的大巴几点发车，票价多少，在哪里坐？",
                    "我{day}晚上的航班落地，请问那时候还有去{district}的机场大巴吗？",
                ],
                &["谢谢。", "麻烦告知一下。"],
            )
            .answer("机场大巴在T1、T2航站楼到达层外侧发车，首班9:00，末班根据航班情况延至最后一个航班落地后1小时，票价20-30元，可在售票处或小程序购票。"),
            issue(
                "携带宠物乘机流程",
                PUB,
                &[
                    "我想带家里的猫坐飞机去{city}，请问需要办理哪些手续？机场有宠物托运柜台吗？",
                    "请问宠物托运需要提前多久到机场？要不要检疫证明？",
                ],
                &["谢谢！", "请告知具体流程。"],
            )
            .answer("宠物需作为托运行李运输，须提前向航空公司申请，并持有动物检疫合格证明和符合要求的航空箱，请至少提前3小时到达机场在值机柜台办理。"),
            issue(
                "充电宝等物品携带规定",
                PAX_PUB,
                &[
                    "请问充电宝多大容量可以带上飞机？我有一个{n}万毫安的能带吗？",
                    "我想带两瓶{liquid}坐飞机，请问是随身带还是托运？有没有数量限制？",
                ],
                &["谢谢解答。", "麻烦告知。"],
            )
            .answer("额定能量不超过100Wh的充电宝可随身携带，严禁托运；液态物品随身携带单件不超过100毫升，酒类可托运，每人限量且需包装完好。"),
            issue(
                "停车场月卡和长时停车办理",
                PUB,
                &[
                    "我经常出差，想问一下机场停车场有没有月卡或者长时停车优惠？怎么办理？",
                    "请问{park}出差停车{n}天大概多少钱？能不能提前预约车位？",
                ],
                &["谢谢。", "请回复。"],
            )
            .answer("机场长时停车场可提供按天计费及月卡服务，月卡可在地面交通中心服务窗口或小程序办理，出差旅客可通过小程序提前预约车位。"),
            issue(
                "机场招聘和实习信息",
                PUB,
                &[
                    "请问机场今年还招不招安检员？报名条件是什么，在哪里报名？",
                    "我是{district}一所职业院校的学生，想问一下机场有没有实习岗位，怎么申请？",
                ],
                &["谢谢！", "盼回复。"],
            )
            .answer("集团招聘信息统一在集团官方网站和官方微信公众号“人才招聘”栏目发布，实习岗位由人力资源部与合作院校统一对接，请关注相关公告。"),
            issue(
                "残疾人和老年旅客优惠服务",
                PUB,
                &[
                    "我父亲今年{age_old}岁，坐飞机机场有没有免费的轮椅和陪同服务？需要提前申请吗？",
                    "请问残疾旅客在机场有哪些优先服务？停车有没有优惠？",
                ],
                &["谢谢。", "麻烦告知。"],
            )
            .answer("机场为老年、残疾等特殊旅客提供免费轮椅、爱心通道和全程陪同服务，可在购票时或提前48小时通过服务热线预约；持残疾人证的车辆可享受停车费减免。"),
        ],
        findings: &[
            "您咨询的问题答复如下：",
        ],
        measures: &[
            "具体信息也可通过机场官方网站、微信小程序查询，或拨打机场服务热线咨询。",
            "如有其他问题，欢迎随时咨询。",
        ],
    },
];

/// The fallback for a category added to the CSV without a topic here.
pub(crate) const GENERIC: Topic = Topic {
    sub: "",
    weight: 1.0,
    audience: Audience::Public,
    place: Place::Terminal,
    decline: DeclineReason::Other,
    decline_p: 0.02,
    issues: &[issue(
        "机场服务问题",
        PUB,
        &[
            "{date}我在{t}遇到了一些问题，找了几个工作人员都没有解决。",
            "我{since}多次在机场遇到同样的问题，一直没有得到改善。",
        ],
        &["希望有关部门尽快处理。", "希望给个说法。"],
    )],
    findings: &["经核查，您反映的情况基本属实。"],
    measures: &["已责成相关部门整改。"],
};

/// The topic for a taxonomy subcategory, or [`GENERIC`].
pub(crate) fn topic_for(sub: &str) -> &'static Topic {
    TOPICS.iter().find(|t| t.sub == sub).unwrap_or(&GENERIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_its_own_topic() {
        for c in crate::categories() {
            assert!(TOPICS.iter().any(|t| t.sub == c.sub), "{}", c.sub);
        }
        assert_eq!(TOPICS.len(), crate::categories().len());
    }

    #[test]
    fn topics_are_complete() {
        for t in TOPICS {
            assert!(!t.issues.is_empty() && !t.findings.is_empty() && !t.measures.is_empty());
            for i in t.issues {
                assert!(!i.speakers.is_empty() && !i.events.is_empty() && !i.asks.is_empty());
                if i.kind == Some(Inquiry) {
                    assert!(i.answer.is_some(), "{}", i.title);
                }
                for f in i.findings {
                    assert!((*f as usize) < t.findings.len(), "{}", i.title);
                }
                for m in i.measures {
                    assert!((*m as usize) < t.measures.len(), "{}", i.title);
                }
            }
        }
        let group_issues = TOPICS.iter().flat_map(|t| t.issues).filter(|i| i.group).count();
        assert!(group_issues >= 8);
    }
}
