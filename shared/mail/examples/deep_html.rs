fn main() {
    for n in [1000usize, 5000, 20000] {
        let html = format!("{}Deep text{}", "<div>".repeat(n), "</div>".repeat(n));
        let config = html2text::config::plain_no_decorate().raw_mode(true);
        let t = std::time::Instant::now();
        let dom = config.parse_html(html.as_bytes()).unwrap();
        let t1 = t.elapsed();
        let tree = config.dom_to_render_tree(&dom).unwrap();
        let t2 = t.elapsed();
        let _ = config.render_to_string(tree, 10_000);
        println!("{n}: parse {t1:?} tree {t2:?} render {:?}", t.elapsed());
    }
}
