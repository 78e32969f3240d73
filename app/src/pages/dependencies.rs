//! Dependencies between services: one service's section and the map of every engine.

use super::capacity::{service_href, sources};
use crate::model::capacity::{DependencyLink, EngineDependencies, ServiceDependencies};
use leptos::prelude::*;

fn link_list(links: Vec<DependencyLink>) -> impl IntoView {
    links
        .into_iter()
        .map(|l| {
            view! {
                <li><a href=service_href(&l.engine, &l.key)>{l.name.clone()}</a>
                    " "<span class=format!("badge status-{}", l.state)>{l.state.clone()}</span>
                    <small class="muted">{format!(" via {}", sources(&l.via))}</small></li>
            }
        })
        .collect_view()
}

#[component]
pub fn DependenciesSection(dependencies: ServiceDependencies) -> impl IntoView {
    let ServiceDependencies {
        depends_on,
        needed_by,
        impact,
        svg,
    } = dependencies;
    let none = depends_on.is_empty() && needed_by.is_empty();
    view! {
        <section aria-labelledby="dependencies-h" class="dependencies">
            <h2 id="dependencies-h">"Dependencies"</h2>
            {impact.map(|i| view! { <p class="impact summary-line">{i}</p> })}
            {if none {
                view! { <p class="muted">"No dependency known: none in compose's depends_on, the environment, Traefik, a small shared network or an audit.depends_on label."</p> }.into_any()
            } else {
                view! {
                    <div class="columns">
                        <div><h3>"Depends on"</h3><ul class="depends-on">{link_list(depends_on)}</ul></div>
                        <div><h3>"Needed by"</h3><ul class="needed-by">{link_list(needed_by)}</ul></div>
                    </div>
                }.into_any()
            }}
            {svg.map(|svg| view! { <div class="chart-wrap depmap-wrap" inner_html=svg></div> })}
        </section>
    }
}

#[component]
pub fn DependenciesPage(maps: Vec<EngineDependencies>) -> impl IntoView {
    let sections = maps
        .into_iter()
        .map(|m| {
            let id = format!("deps-{}", m.engine);
            let labelled_by = id.clone();
            let any = !m.edges.is_empty();
            let edges = m
                .edges
                .into_iter()
                .map(|(from, to)| {
                    view! {
                        <tr>
                            <td><a href=service_href(&from.engine, &from.key)>{from.name.clone()}</a></td>
                            <td><a href=service_href(&to.engine, &to.key)>{to.name.clone()}</a></td>
                            <td>{sources(&from.via)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section aria-labelledby=labelled_by>
                    <h2 id=id>{format!("Engine {}", m.engine)}</h2>
                    {m.svg.map(|svg| view! { <div class="chart-wrap depmap-wrap" inner_html=svg></div> })}
                    {if any {
                        view! {
                            <p class="muted">{format!("{} services with no known dependency are not drawn.", m.isolated)}</p>
                            <table class="dependency-edges">
                                <thead><tr><th scope="col">"Service"</th><th scope="col">"Depends on"</th><th scope="col">"Seen in"</th></tr></thead>
                                <tbody>{edges}</tbody>
                            </table>
                        }.into_any()
                    } else {
                        view! { <p>"No dependency known on this engine."</p> }.into_any()
                    }}
                </section>
            }
        })
        .collect_view();
    view! {
        <h1>"Dependency map"</h1>
        <p class="lead">"Who needs whom, from compose's depends_on, host names in environment values and variable names (the values themselves are never stored), Traefik routing, shared networks of up to 8 services (dashed: they link both ways) and the audit.depends_on label. Boxes are coloured by state; arrows point at what a service needs."</p>
        {sections}
    }
}
