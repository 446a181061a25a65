//! Shared word lists of the demo: places around the airport, flights, shops, items.
//!
//! Everything here is fictional but shaped like the real thing: village names near a runway,
//! airline flight numbers, terminal zones, construction projects.

use rand::Rng;
use rand::seq::IndexedRandom;

/// Picks one element of a non-empty constant list.
pub(crate) fn pick<'a, R: Rng + ?Sized>(rng: &mut R, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or("")
}

/// Picks an index with probability proportional to `weights` (all zero: index 0).
pub(crate) fn pick_weighted<R: Rng + ?Sized>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return 0;
    }
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

/// Villages and communities around the airport (fictional).
pub(crate) const VILLAGES: &[&str] = &[
    "长坡村",
    "东沟村",
    "小河村",
    "宝象村",
    "柳营村",
    "石龙村",
    "大营村",
    "新街社区",
    "干沟村",
    "黄土坡村",
    "松园村",
    "下坝村",
    "大树营村",
    "阿拉社区",
    "龙泉村",
    "杨柳村",
    "后山村",
    "花箐村",
    "白沙村",
    "沙沟社区",
];

/// Streets (街道) of the airport economic zone.
pub(crate) const STREETS: &[&str] = &["大板桥街道", "小哨街道", "空港街道", "长水街道", "宝象河街道"];

/// City districts petitioners travel to or live in.
pub(crate) const DISTRICTS: &[&str] = &[
    "城东",
    "城南",
    "城北",
    "高新区",
    "经开区",
    "大学城",
    "老城区",
    "新区",
    "滨湖片区",
    "火车站一带",
];

/// Roads for urban addresses.
pub(crate) const ROADS: &[&str] = &[
    "人民路",
    "建设路",
    "环城东路",
    "北京路",
    "春城路",
    "东风路",
    "滇池路",
    "白塔路",
    "金碧路",
    "青年路",
    "广福路",
    "虹桥路",
];

/// Terminals.
pub(crate) const TERMINALS: &[&str] = &["T1航站楼", "T2航站楼", "T2航站楼", "T3航站楼"];

/// Zones inside a terminal.
pub(crate) const TERMINAL_AREAS: &[&str] = &[
    "出发层",
    "到达层",
    "候机区",
    "值机大厅",
    "国际出发区",
    "国内到达层",
    "B指廊",
    "C指廊",
];

/// Parking structures.
pub(crate) const PARKS: &[&str] = &[
    "P1停车楼",
    "P2停车楼",
    "P2停车楼",
    "P3停车场",
    "地面停车场",
    "东区长时停车场",
];

/// Ground transport spots.
pub(crate) const TRANSPORT_SPOTS: &[&str] = &[
    "交通中心",
    "出租车上客区",
    "网约车上客点",
    "机场大巴售票处",
    "东区出租车蓄车场",
];

/// Construction projects of the airport group.
pub(crate) const PROJECTS: &[&str] = &[
    "T3航站楼扩建工程",
    "第二跑道延长工程",
    "东区货运站改造工程",
    "综合交通中心工程",
    "西区机坪扩建工程",
    "场外排水管网工程",
    "航站楼东扩工程",
];

/// Airline codes for flight numbers.
pub(crate) const AIRLINES: &[&str] = &[
    "MU", "MU", "CZ", "CZ", "CA", "HU", "3U", "KY", "8L", "ZH", "MF", "SC", "FM", "JD", "G5", "GS", "EU",
    "TV",
];

/// Destination cities.
pub(crate) const CITIES: &[&str] = &[
    "北京",
    "上海",
    "广州",
    "深圳",
    "成都",
    "重庆",
    "西安",
    "杭州",
    "南京",
    "武汉",
    "长沙",
    "厦门",
    "青岛",
    "大连",
    "哈尔滨",
    "沈阳",
    "郑州",
    "海口",
    "三亚",
    "贵阳",
    "南宁",
    "拉萨",
    "乌鲁木齐",
    "曼谷",
    "首尔",
    "新加坡",
    "西双版纳",
    "丽江",
];

/// Kinds of shops a tenant runs.
pub(crate) const SHOP_KINDS: &[&str] = &[
    "特产店",
    "便利店",
    "咖啡店",
    "面馆",
    "书店",
    "米线店",
    "箱包店",
    "土特产专柜",
    "快餐店",
    "茶叶店",
    "数码配件店",
    "鲜花饼专卖店",
];

/// Food and drinks sold in the terminal.
pub(crate) const FOODS: &[&str] = &[
    "牛肉面",
    "过桥米线",
    "一杯美式咖啡",
    "汉堡套餐",
    "一瓶矿泉水",
    "炒饭",
    "一份饺子",
    "鲜花饼",
    "一碗小锅米线",
    "酸奶",
    "三明治",
    "一杯奶茶",
];

/// Items passengers lose.
pub(crate) const ITEMS: &[&str] = &[
    "充电宝",
    "笔记本电脑",
    "保温杯",
    "金手镯",
    "身份证",
    "钱包",
    "蓝牙耳机",
    "平板电脑",
    "手表",
    "一副眼镜",
    "相机",
    "装有合同的文件袋",
    "银行卡",
    "雨伞",
];

/// Liquids confiscated at security.
pub(crate) const LIQUIDS: &[&str] = &["白酒", "护肤品", "蜂蜜", "洗发水", "自制辣椒油", "牛奶"];

/// Generic references to staff, never a real name.
pub(crate) const BOSSES: &[&str] = &[
    "某科长",
    "某经理",
    "某主管",
    "某副经理",
    "某部门负责人",
    "某班组长",
    "某项目经理",
    "某副主任",
];

/// Departments an integrity report may point at.
pub(crate) const DEPTS: &[&str] = &[
    "采购部",
    "商业管理公司招商部",
    "工程建设指挥部某项目部",
    "物业管理公司",
    "地面交通中心",
    "车辆管理科",
    "后勤保障部",
    "机坪保障部",
];

/// Staff posts.
pub(crate) const POSTS: &[&str] = &[
    "安检员",
    "地勤",
    "值机员",
    "行李装卸工",
    "保洁员",
    "机坪引导员",
    "消防员",
    "机务",
    "客服专员",
    "停车场收费员",
    "特种车辆驾驶员",
];

/// Parts of a suitcase that break.
pub(crate) const BAG_PARTS: &[&str] = &["拉杆", "一个轮子", "外壳", "拉链", "提手", "密码锁"];

/// Snacks sold past their date.
pub(crate) const SNACKS: &[&str] = &["面包", "牛奶", "火腿肠", "坚果礼盒", "饼干", "鲜花饼礼盒"];

/// Where a construction project is relative to a village.
pub(crate) const DIRECTIONS: &[&str] = &["东", "西", "南", "北"];

/// Weekday names, Monday first.
pub(crate) const WEEKDAYS: &[&str] = &["一", "二", "三", "四", "五", "六", "日"];
