export { DEFAULT_DOCTOR_OPTIONS, runDoctor } from "./run.js";
export type { DoctorOptions } from "./run.js";
export { EXIT_CODES } from "./report.js";
export type { Buffering, BufferingKind, Cut, DoctorReport, Fix, Health, HttpExchange, Intermediary, Problem, TransportReport, UpgradeResult, Verdict, WatchResult } from "./report.js";
export { formatReport, COLOURS, PLAIN } from "./format.js";
export type { Paint } from "./format.js";
export { recognise } from "./intermediary.js";
export { fixesFor } from "./fixes.js";
export { LATE_MS } from "./diagnose.js";
