// Every operation of the API called through openapi-fetch with the types openapi-typescript generated from the
// live server's schema (generated/schema.d.ts), compiled by tsc in strict mode: a field the schema does not type
// for an answer would not compile. Prints a report that tests/test_generated_clients.py checks: the operations
// called, what did not answer as expected, and values read from the typed answers.
import createClient from "openapi-fetch";
import type { paths } from "./generated/schema.js";

const api = process.env["API"] ?? "";
const token = process.env["TOKEN"] ?? "";
const anonymous = createClient<paths>({ baseUrl: api });
const admin = createClient<paths>({ baseUrl: api, headers: { Authorization: `Token ${token}` } });

const called: string[] = [];
const failures: string[] = [];
const values: Record<string, unknown> = {};

function check(operation: string, response: Response, expected: number, condition = true): void {
  called.push(operation);
  if (response.status !== expected || !condition) {
    failures.push(`${operation}: ${response.status} (expected ${expected}), condition ${condition}`);
  }
}

const malenkovSpeaker = { params: { query: { speaker: ["georgy-malenkov"] } } };
const maoSpeaker = { params: { query: { speaker: ["mao-zedong"] } } };

// Reads of excerpts.
const page = await anonymous.GET("/api/v1/excerpts/", malenkovSpeaker);
const malenkov = page.data?.results[0];
check("v1_excerpts_list", page.response, 200, page.data?.count === 1);
values["malenkov"] = malenkov?.text;
const id = malenkov?.id ?? 0;
const byId = { params: { path: { id } } };
const one = await anonymous.GET("/api/v1/excerpts/{id}/", byId);
check("v1_excerpts_retrieve", one.response, 200, one.data?.speaker.name === "Georgy Malenkov");
const linked = await anonymous.GET("/api/v1/excerpts/{id}.jsonld", byId);
check("v1_excerpts_retrieve_linked_data", linked.response, 200, linked.data !== undefined);
const facets = await anonymous.GET("/api/v1/excerpts/facets/", maoSpeaker);
const maoCount = facets.data?.count ?? -1;
check("v1_excerpts_facets_retrieve", facets.response, 200, maoCount > 0);
const drawn = await anonymous.GET("/api/v1/excerpts/random/", { params: { query: { count: 3, seed: 7 } } });
check("v1_excerpts_random_retrieve", drawn.response, 200, drawn.data?.results.length === 3);

// Files, read as text: their one media type types them as strings.
const csv = await anonymous.GET("/api/v1/excerpts/export.csv", { ...malenkovSpeaker, parseAs: "text" });
values["csv_rows"] = (csv.data ?? "").trim().split("\n").length - 1;
check("v1_excerpts_export_csv", csv.response, 200, (csv.data ?? "").startsWith("id,url,text,"));
const lines = await anonymous.GET("/api/v1/excerpts/export.jsonl", { ...malenkovSpeaker, parseAs: "text" });
check("v1_excerpts_export_jsonl", lines.response, 200, (lines.data ?? "").includes("peaceful economic competition"));

// Citations.
const cited = await anonymous.GET("/api/v1/excerpts/{id}/cite/", byId);
check("v1_excerpts_cite", cited.response, 200, cited.data?.length === 1);
const csl = await anonymous.GET("/api/v1/excerpts/{id}/cite.json", byId);
check("v1_excerpts_cite_csl_json", csl.response, 200, csl.data?.length === 1);
const bibtex = await anonymous.GET("/api/v1/excerpts/{id}/cite.bib", { ...byId, parseAs: "text" });
values["bibtex"] = bibtex.data;
check("v1_excerpts_cite_bibtex", bibtex.response, 200, (bibtex.data ?? "").includes("Zhihua Shen"));
const ris = await anonymous.GET("/api/v1/excerpts/{id}/cite.ris", { ...byId, parseAs: "text" });
check("v1_excerpts_cite_ris", ris.response, 200, (ris.data ?? "").includes("AU  - Zhihua Shen"));
const chicago = await anonymous.GET("/api/v1/excerpts/{id}/cite.txt", { ...byId, parseAs: "text" });
check("v1_excerpts_cite_chicago", chicago.response, 200, (chicago.data ?? "").startsWith("Georgy Malenkov, "));
const bibliography = await anonymous.GET("/api/v1/excerpts/cite/", maoSpeaker);
check("v1_excerpts_cite_list", bibliography.response, 200, bibliography.data?.length === maoCount);
const cslList = await anonymous.GET("/api/v1/excerpts/cite.json", maoSpeaker);
check("v1_excerpts_cite_list_csl_json", cslList.response, 200, cslList.data?.length === maoCount);
const bibList = await anonymous.GET("/api/v1/excerpts/cite.bib", { ...maoSpeaker, parseAs: "text" });
check("v1_excerpts_cite_list_bibtex", bibList.response, 200, (bibList.data ?? "").split("@").length - 1 === maoCount);
const risList = await anonymous.GET("/api/v1/excerpts/cite.ris", { ...maoSpeaker, parseAs: "text" });
check("v1_excerpts_cite_list_ris", risList.response, 200, (risList.data ?? "").split("ER  - ").length - 1 === maoCount);
const notes = await anonymous.GET("/api/v1/excerpts/cite.txt", { ...maoSpeaker, parseAs: "text" });
check("v1_excerpts_cite_list_chicago", notes.response, 200, (notes.data ?? "").trim().split("\n").length === maoCount);

// Reference lists and details.
const speakers = await anonymous.GET("/api/v1/speakers/", {});
check("v1_speakers_list", speakers.response, 200, speakers.data?.results.some((s) => s.name === "Mao Zedong") === true);
const mao = await anonymous.GET("/api/v1/speakers/{slug}/", { params: { path: { slug: "mao-zedong" } } });
check("v1_speakers_retrieve", mao.response, 200, (mao.data?.aliases.length ?? 0) > 0);
const topics = await anonymous.GET("/api/v1/topics/", {});
check("v1_topics_list", topics.response, 200, (topics.data?.count ?? 0) > 0);
const events = await anonymous.GET("/api/v1/events/", {});
check("v1_events_list", events.response, 200, (events.data?.count ?? 0) > 0);
const congress = await anonymous.GET("/api/v1/events/{slug}/", { params: { path: { slug: "twentieth-party-congress" } } });
check("v1_events_retrieve", congress.response, 200, congress.data?.name === "Twentieth Congress of the CPSU");
const sources = await anonymous.GET("/api/v1/sources/", {});
const shen = sources.data?.results.find((source) => source.author === "Zhihua Shen");
check("v1_sources_list", sources.response, 200, shen !== undefined);
const shenSource = await anonymous.GET("/api/v1/sources/{id}/", { params: { path: { id: shen?.id ?? 0 } } });
check("v1_sources_retrieve", shenSource.response, 200, shenSource.data?.title === shen?.title);

// Dumps: the listing, a file as bytes, the redirect to the newest (not followed).
const listing = await anonymous.GET("/api/v1/dumps/", {});
const file = listing.data?.files[0];
check("v1_dumps_list", listing.response, 200, (listing.data?.files.length ?? 0) > 0);
const dumped = await anonymous.GET("/api/v1/dumps/{name}", {
  params: { path: { name: file?.name ?? "" } },
  parseAs: "arrayBuffer",
});
const bytes = new Uint8Array(dumped.data ?? new ArrayBuffer(0));
check("v1_dumps_file", dumped.response, 200, bytes[0] === 0x1f && bytes[1] === 0x8b);
const latest = await anonymous.GET("/api/v1/dumps/latest.{format}.gz", {
  params: { path: { format: "csv" } },
  redirect: "manual",
});
check("v1_dumps_latest", latest.response, 302, (latest.response.headers.get("location") ?? "").endsWith(".csv.gz"));

// Writes, by an administrator: create, replace, change, the history, delete.
const topic = await admin.POST("/api/v1/topics/", {
  body: { slug: "generated-ts", name: "Generated in TypeScript", description: "A test topic." },
});
check("v1_topics_create", topic.response, 201, topic.data?.slug === "generated-ts");
const topicPath = { params: { path: { slug: "generated-ts" } } };
const renamed = await admin.PUT("/api/v1/topics/{slug}/", {
  ...topicPath,
  body: { slug: "generated-ts", name: "Renamed", description: "A test topic." },
});
check("v1_topics_update", renamed.response, 200, renamed.data?.name === "Renamed");
const described = await admin.PATCH("/api/v1/topics/{slug}/", { ...topicPath, body: { description: "Changed." } });
check("v1_topics_partial_update", described.response, 200, described.data?.description === "Changed.");
const speakerPath = { params: { path: { slug: "generated-ts-speaker" } } };
const speaker = await admin.POST("/api/v1/speakers/", { body: { slug: "generated-ts-speaker", name: "TS Speaker" } });
check("v1_speakers_create", speaker.response, 201, speaker.data?.name === "TS Speaker");
const respoken = await admin.PUT("/api/v1/speakers/{slug}/", {
  ...speakerPath,
  body: { slug: "generated-ts-speaker", name: "TS Speaker", aliases: ["T. Speaker"] },
});
check("v1_speakers_update", respoken.response, 200, respoken.data?.aliases[0] === "T. Speaker");
const speakerPatched = await admin.PATCH("/api/v1/speakers/{slug}/", { ...speakerPath, body: { description: "A test." } });
check("v1_speakers_partial_update", speakerPatched.response, 200, speakerPatched.data?.description === "A test.");
const eventPath = { params: { path: { slug: "generated-ts-event" } } };
const event = await admin.POST("/api/v1/events/", {
  body: { slug: "generated-ts-event", name: "TS event", date: "1958-11" },
});
check("v1_events_create", event.response, 201, event.data?.date === "1958-11");
const redated = await admin.PUT("/api/v1/events/{slug}/", {
  ...eventPath,
  body: { slug: "generated-ts-event", name: "TS event", date: "1958" },
});
check("v1_events_update", redated.response, 200, redated.data?.date === "1958");
const placed = await admin.PATCH("/api/v1/events/{slug}/", { ...eventPath, body: { place: "Wuchang" } });
check("v1_events_partial_update", placed.response, 200, placed.data?.place === "Wuchang");
const source = await admin.POST("/api/v1/sources/", {
  body: { slug: "generated-ts-source", title: "TS Papers", kind: "book", date: "1960" },
});
check("v1_sources_create", source.response, 201, source.data?.title === "TS Papers");
const sourcePath = { params: { path: { id: source.data?.id ?? 0 } } };
const resourced = await admin.PUT("/api/v1/sources/{id}/", {
  ...sourcePath,
  body: { slug: "generated-ts-source", title: "TS Papers", kind: "book", date: "1961" },
});
check("v1_sources_update", resourced.response, 200, resourced.data?.date === "1961");
const authored = await admin.PATCH("/api/v1/sources/{id}/", { ...sourcePath, body: { author: "A. Historian" } });
check("v1_sources_partial_update", authored.response, 200, authored.data?.author === "A. Historian");
const written = await admin.POST("/api/v1/excerpts/", {
  body: {
    text: "Words written through openapi-fetch.",
    kind: "speech",
    speaker: "generated-ts-speaker",
    date: "1958-11",
    source: source.data?.id ?? 0,
    language: "zh",
    topics: ["generated-ts"],
    event: "generated-ts-event",
    status: "published",
  },
});
check("v1_excerpts_create", written.response, 201, written.data?.date_display === "November 1958");
const excerptPath = { params: { path: { id: written.data?.id ?? 0 } } };
const replaced = await admin.PUT("/api/v1/excerpts/{id}/", {
  ...excerptPath,
  body: {
    text: "Words written through openapi-fetch, replaced.",
    kind: "speech",
    speaker: "generated-ts-speaker",
    date: "1958-11",
    source: source.data?.id ?? 0,
    language: "zh",
    status: "published",
  },
});
check("v1_excerpts_update", replaced.response, 200, replaced.data?.text.endsWith("replaced.") === true);
const redatedExcerpt = await admin.PATCH("/api/v1/excerpts/{id}/", { ...excerptPath, body: { date: "1958-12" } });
check("v1_excerpts_partial_update", redatedExcerpt.response, 200, redatedExcerpt.data?.date_display === "December 1958");
const history = await admin.GET("/api/v1/excerpts/{id}/history/", excerptPath);
values["history"] = history.data?.map((entry) => entry.history_type);
check("v1_excerpts_history_list", history.response, 200);

// A problem is typed as one.
const missing = await anonymous.GET("/api/v1/excerpts/{id}/", { params: { path: { id: (written.data?.id ?? 0) + 1000 } } });
if (missing.response.status !== 404 || missing.error?.title !== "Not found") {
  failures.push(`a missing excerpt: ${missing.response.status} ${JSON.stringify(missing.error)}`);
}

const deleted = [
  ["v1_excerpts_destroy", await admin.DELETE("/api/v1/excerpts/{id}/", excerptPath)],
  ["v1_sources_destroy", await admin.DELETE("/api/v1/sources/{id}/", sourcePath)],
  ["v1_events_destroy", await admin.DELETE("/api/v1/events/{slug}/", eventPath)],
  ["v1_speakers_destroy", await admin.DELETE("/api/v1/speakers/{slug}/", speakerPath)],
  ["v1_topics_destroy", await admin.DELETE("/api/v1/topics/{slug}/", topicPath)],
] as const;
for (const [operation, result] of deleted) {
  check(operation, result.response, 204);
}
const gone = await anonymous.GET("/api/v1/topics/{slug}/", topicPath);
check("v1_topics_retrieve", gone.response, 404, gone.error?.status === 404);

console.log(JSON.stringify({ called, failures, values }));
