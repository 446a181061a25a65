//! Prints a few generated matters and distribution figures: `cargo run -p xinfang-demo --example sample`.

use std::collections::BTreeMap;
use xinfang_demo::{DemoConfig, categories, generate};

fn main() {
    let cfg = DemoConfig {
        matters: 3000,
        ..DemoConfig::default()
    };
    let ms = generate(&cfg);
    let cats = categories();
    let step = ms.len() / 25;
    for m in ms.iter().step_by(step.max(1)) {
        println!(
            "{} [{}] {} / {} / {:?} / {} / {}人\n  标题: {}\n  内容: {}\n  地点: {:?}\n  答复: {:?}\n",
            m.registered_at,
            m.channel,
            cats[m.category].sub,
            m.petition_type,
            m.external_id,
            m.target,
            m.people_count,
            m.title,
            m.content,
            m.location,
            m.reply
        );
    }
    let mut by_channel: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_month: BTreeMap<String, usize> = BTreeMap::new();
    for m in &ms {
        *by_channel.entry(m.channel.code()).or_default() += 1;
        *by_state.entry(m.target.code()).or_default() += 1;
        *by_month
            .entry(m.registered_at.format("%Y-%m").to_string())
            .or_default() += 1;
    }
    println!("channels {by_channel:?}\nstates {by_state:?}\nmonths {by_month:?}");
    let rated: Vec<_> = ms.iter().filter_map(|m| m.satisfaction).collect();
    let pos = rated.iter().filter(|s| s.is_positive()).count();
    let repeats = ms.iter().filter(|m| m.repeat_of.is_some()).count();
    let groups = ms.iter().filter(|m| m.people_count >= 5).count();
    let overdue = ms.iter().filter(|m| m.is_overdue()).count();
    let ext = ms.iter().filter(|m| m.extension_days.is_some()).count();
    let anon = ms.iter().filter(|m| m.petitioners.is_empty()).count();
    let people: Vec<_> = ms.iter().flat_map(|m| &m.petitioners).collect();
    let ids = people.iter().filter(|p| p.id_number.is_some()).count();
    let n = ms.len() as f64;
    println!(
        "satisfaction {:.1}% of {}; repeats {:.1}%; groups {:.1}%; overdue {:.1}%; extensions {}; anonymous {:.1}%; ids {:.1}% of {} petitioners",
        100.0 * pos as f64 / rated.len() as f64,
        rated.len(),
        100.0 * repeats as f64 / n,
        100.0 * groups as f64 / n,
        100.0 * overdue as f64 / n,
        ext,
        100.0 * anon as f64 / n,
        100.0 * ids as f64 / people.len() as f64,
        people.len()
    );
    let mut contents: Vec<&str> = ms.iter().map(|m| m.content.as_str()).collect();
    contents.sort();
    contents.dedup();
    println!("distinct contents {} of {}", contents.len(), ms.len());
    let lens: Vec<usize> = ms.iter().map(|m| m.content.chars().count()).collect();
    println!(
        "content length min {} max {} mean {}",
        lens.iter().min().unwrap_or(&0),
        lens.iter().max().unwrap_or(&0),
        lens.iter().sum::<usize>() / lens.len().max(1)
    );
}
