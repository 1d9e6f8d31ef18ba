/** The report: a static page of the reading notes beside our measured numbers (`paperlab report`). */
export { buildReport, type BuildReportOptions, type BuildReportResult, type ExperimentMeta } from './build.js';
export { loadResults, REPORT_MARKER, type LoadedResult, type LoadedResults, type Problem } from './load.js';
export { SECTIONS, type Section, type SectionId, type NoteQuote } from './sections.js';
export { DEMOS } from './demos.js';
