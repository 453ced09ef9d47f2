/**
 * Generated from openapi.yaml by openapi-typescript (`npm run client`): do not edit by hand.
 * test/clients/typescript-client.test.ts fails when this file differs from what that command makes.
 */

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness
         * @description Answers 200 while the process lives; checks no dependency.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness
         * @description Checks the database and the presence store, each within a second, and says where each is (through Sentinel: the master in use). 503 names what failed.
         */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description Sweeps by group and outcome, terminations, skips, durations, agent RPC, lock contention, guard trips.
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scaling-groups/{scaling_group}/sweeps": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sweep a scaling group for stale kernels
         * @description Checks every RUNNING kernel of the group: presence in Valkey first, then, for the suspects, their own agent. Kernels their agent confirms dead move to TERMINATED, unless `dry_run` is set or the mass-termination guard trips (bypassed with `force`). Answers the recorded sweep.
         */
        post: operations["createSweep"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sweeps/{sweep_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a sweep
         * @description The sweep as it was answered when it ran (failed sweeps included, with their error).
         */
        get: operations["getSweep"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sweeps": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List sweeps
         * @description Newest first, optionally of one scaling group.
         */
        get: operations["listSweeps"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/kernels/{kernel_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a kernel
         * @description The kernel with its status, the bookkeeping of its last change and its version (also the ETag).
         */
        get: operations["getKernel"];
        /**
         * Create or replace a kernel
         * @description A status change of an existing kernel is written to its history; creating one writes none. Any change raises the version; with `If-Match` the kernel is replaced only at the given version.
         */
        put: operations["upsertKernel"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/kernels": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List kernels
         * @description In id order, a page at a time; pass `next_cursor` back as `cursor` for the next page. Filtered by scaling group, status and agent, each optional.
         */
        get: operations["listKernels"];
        /**
         * Create or replace many kernels
         * @description 1 to 10,000 kernels in one transaction: all are written, or none. An entry with `expected_version` is only replaced at that version; if any is missing or at another, nothing is written (412).
         */
        put: operations["upsertKernels"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/kernels/{kernel_id}/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a kernel's status history
         * @description Every status change, oldest first, with the sweep that made it (if any).
         */
        get: operations["getKernelHistory"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/kernels/{kernel_id}/presence": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a kernel's presence
         * @description The heartbeat as the presence store has it now (read-only: unlike a sweep, this records no check).
         */
        get: operations["getKernelPresence"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/agents/{agent_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read an agent
         * @description The agent's registration, and its status as the sweeps found it.
         */
        get: operations["getAgent"];
        /**
         * Register an agent
         * @description Where the agent answers `POST /v1/kernels/running` (or, for older agents, `GET /v1/kernels/{kernel_id}/running`); registering again moves it, and makes it ALIVE: what sweeps learned of its reachability and of its routes, and a decommissioning, are forgotten. The address is stored as its origin (`http(s)://host:port`); one with credentials, a path, an invalid port, a link-local, metadata, multicast or unspecified IP, or (with `AGENT_ADDRESS_ALLOW` set) outside the allowed blocks is refused.
         */
        put: operations["registerAgent"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/agents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List agents
         * @description In id order, a page at a time; pass `next_cursor` back as `cursor` for the next page. Filtered by scaling group and status, each optional.
         */
        get: operations["listAgents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/agents/{agent_id}/presence": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Report kernel heartbeats
         * @description Writes each kernel's presence as a Backend.AI agent writes it to Valkey, naming the agent: a heartbeat vouches only for the agent's own kernels, so a kernel of another agent reported here is still asked about. No database lookup: any well-formed kernel id is accepted. Accepts AGENT_TOKEN as well as API_TOKEN.
         */
        post: operations["reportPresence"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/agents/{agent_id}/reconcile": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reconcile what an agent runs with what the service knows
         * @description The agent lists every kernel it runs. `orphans`: those it should stop (unknown to the service, in a final status, or assigned to another agent); `missing`: its own kernels in a non-final status that it did not list. Read-only: nothing is changed. Accepts AGENT_TOKEN as well as API_TOKEN.
         */
        post: operations["reconcileAgent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/agents/{agent_id}/decommission": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Decommission an agent
         * @description A recorded sweep of handler `decommission-agent` in the agent's scaling group, under its lock: every kernel of the agent in a non-final status moves to TERMINATED with reason AGENT_DECOMMISSIONED, neither presence nor the agent being asked. `dry_run` and the mass-termination guard (bypassed with `force`) work as in a sweep. Once the sweep completes the agent is DECOMMISSIONED and never asked again until registered anew.
         */
        post: operations["decommissionAgent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read the event log
         * @description Events oldest first after the cursor `after` (from the oldest kept without it); pass `next_cursor` back as `after` for what follows. With `wait_sec` and nothing to give, the answer waits for a commit (by any instance) and comes as soon as there is an event, or after `wait_sec` with none (long-poll). 410 when events after `after` were pruned.
         */
        get: operations["listEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/events/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Follow the event log (Server-Sent Events)
         * @description Every event as it commits, as `id: <id>`, `event: <type>` and `data: <CloudEvent JSON>`, and a comment line at least every 15 s. Resumes after the `Last-Event-ID` header (as EventSource sends it on reconnecting), else after `after`; with neither, only new events. 410 (before the stream starts) when events after the cursor were pruned.
         */
        get: operations["streamEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description A scaling group or agent name.
         * @example default
         */
        Name: string;
        /**
         * @example RUNNING
         * @enum {string}
         */
        KernelStatus: "PENDING" | "RESERVED" | "SCHEDULED" | "PREPARING" | "BUILDING" | "PULLING" | "PREPARED" | "CREATING" | "RUNNING" | "RESTARTING" | "RESIZING" | "SUSPENDED" | "TERMINATING" | "TERMINATED" | "ERROR" | "CANCELLED";
        /**
         * @description A kernel's heartbeat as the presence store has it.
         * @enum {string}
         */
        HealthCheckStatus: "ALIVE" | "UNHEALTHY" | "STALE";
        /**
         * @example agent_timeout
         * @enum {string}
         */
        SkipCause: "no_agent" | "agent_timeout" | "agent_mismatch" | "agent_error" | "agent_decommissioned" | "awaiting_confirmation";
        /** @enum {string} */
        SweepOutcome: "completed" | "dry_run" | "guard_tripped" | "failed";
        KernelTransitionInfo: {
            /**
             * Format: uuid
             * @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30
             */
            kernel_id: string;
            from_status: components["schemas"]["KernelStatus"];
            /** @description Null on successes. */
            reason: string | null;
        };
        SkippedKernel: {
            /**
             * Format: uuid
             * @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30
             */
            kernel_id: string;
            cause: components["schemas"]["SkipCause"];
            /** @description With awaiting_confirmation: the sweeps in a row that found it dead so far. */
            confirmations?: number;
        };
        /**
         * @description A recorded sweep, as it was answered when it ran.
         * @example {
         *       "sweep_id": "f9764a5e-9a61-443c-9616-13070f961d8b",
         *       "scaling_group": "default",
         *       "handler": "sweep-stale-kernels",
         *       "dry_run": false,
         *       "forced": false,
         *       "outcome": "completed",
         *       "started_at": "2026-12-02T05:51:49.731Z",
         *       "finished_at": "2026-12-02T05:51:49.774Z",
         *       "result": {
         *         "successes": [
         *           {
         *             "kernel_id": "6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30",
         *             "from_status": "RUNNING",
         *             "reason": null
         *           }
         *         ],
         *         "failures": [
         *           {
         *             "kernel_id": "4bce9f37-30a9-4276-8275-5db1aa6d9ace",
         *             "from_status": "RUNNING",
         *             "reason": "STALE_KERNEL"
         *           }
         *         ]
         *       },
         *       "terminated": [
         *         "4bce9f37-30a9-4276-8275-5db1aa6d9ace"
         *       ],
         *       "skipped": [],
         *       "counts": {
         *         "kernels": 2,
         *         "successes": 1,
         *         "failures": 1,
         *         "terminated": 1,
         *         "skipped": 0
         *       },
         *       "error": null
         *     }
         */
        Sweep: {
            /**
             * Format: uuid
             * @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30
             */
            sweep_id: string;
            scaling_group: components["schemas"]["Name"];
            /**
             * @description `sweep-stale-kernels`, or `decommission-agent` for `POST /v1/agents/{agent_id}/decommission`.
             * @example sweep-stale-kernels
             */
            handler: string;
            dry_run: boolean;
            forced: boolean;
            outcome: components["schemas"]["SweepOutcome"];
            /**
             * Format: date-time
             * @example 2026-12-02T06:00:00.000Z
             */
            started_at: string;
            /**
             * Format: date-time
             * @example 2026-12-02T06:00:00.000Z
             */
            finished_at: string;
            /** @description The HandlerResult: every kernel swept, once, in input order. */
            result: {
                successes: components["schemas"]["KernelTransitionInfo"][];
                failures: components["schemas"]["KernelTransitionInfo"][];
            };
            /** @description Kernels whose status this sweep changed. */
            terminated: string[];
            /** @description Suspect kernels left alone: their agent gave no verdict, or it is not yet confirmed (SWEEP_CONFIRMATIONS). */
            skipped: components["schemas"]["SkippedKernel"][];
            /** @description The sizes of the lists above. */
            counts: {
                kernels: number;
                successes: number;
                failures: number;
                terminated: number;
                skipped: number;
            };
            /** @description Why a failed sweep failed; null otherwise. */
            error: string | null;
        };
        /** @description Newest first. */
        SweepList: {
            items: components["schemas"]["Sweep"][];
        };
        /**
         * @example {
         *       "dry_run": true
         *     }
         */
        SweepRequest: {
            /**
             * @default sweep-stale-kernels
             * @enum {string}
             */
            handler?: "sweep-stale-kernels";
            /**
             * @description Check and report, change nothing.
             * @default false
             */
            dry_run?: boolean;
            /**
             * @description Bypass the mass-termination guard.
             * @default false
             */
            force?: boolean;
        };
        /**
         * @example {
         *       "kernel_id": "6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30",
         *       "session_id": "0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f",
         *       "scaling_group": "default",
         *       "agent_id": "a1",
         *       "status": "RUNNING",
         *       "status_info": null,
         *       "status_changed_at": "2026-12-02T05:59:00.000Z",
         *       "terminated_at": null,
         *       "created_at": "2026-12-02T05:59:00.000Z",
         *       "version": 1
         *     }
         */
        Kernel: {
            /**
             * Format: uuid
             * @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30
             */
            kernel_id: string;
            /**
             * Format: uuid
             * @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30
             */
            session_id: string;
            scaling_group: components["schemas"]["Name"];
            agent_id: components["schemas"]["Name"] | null;
            status: components["schemas"]["KernelStatus"];
            status_info: string | null;
            /**
             * Format: date-time
             * @example 2026-12-02T06:00:00.000Z
             */
            status_changed_at: string;
            terminated_at: string | null;
            /**
             * Format: date-time
             * @example 2026-12-02T06:00:00.000Z
             */
            created_at: string;
            /** @description 1 at creation, raised by every change (a termination too); the ETag. */
            version: number;
        };
        KernelList: {
            items: components["schemas"]["Kernel"][];
            /** @description Pass back as `cursor` for the next page; null on the last. */
            next_cursor: string | null;
        };
        /**
         * @example {
         *       "session_id": "0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f",
         *       "scaling_group": "default",
         *       "agent_id": "a1",
         *       "status": "RUNNING"
         *     }
         */
        KernelUpsert: {
            /**
             * Format: uuid
             * @example 0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f
             */
            session_id: string;
            scaling_group: components["schemas"]["Name"];
            agent_id: components["schemas"]["Name"] | null;
            status: components["schemas"]["KernelStatus"];
        };
        KernelBulkEntry: {
            /**
             * Format: uuid
             * @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30
             */
            kernel_id: string;
            /**
             * Format: uuid
             * @example 0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f
             */
            session_id: string;
            scaling_group: components["schemas"]["Name"];
            agent_id: components["schemas"]["Name"] | null;
            status: components["schemas"]["KernelStatus"];
            /** @description Replace only while the kernel exists at this version; otherwise the whole request is 412. */
            expected_version?: number;
        };
        /**
         * @example {
         *       "kernels": [
         *         {
         *           "kernel_id": "6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30",
         *           "session_id": "0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f",
         *           "scaling_group": "default",
         *           "agent_id": "a1",
         *           "status": "RUNNING"
         *         }
         *       ]
         *     }
         */
        KernelBulkUpsert: {
            kernels: components["schemas"]["KernelBulkEntry"][];
        };
        KernelBulkUpsertResult: {
            upserted: number;
        };
        KernelStatusChange: {
            from_status: components["schemas"]["KernelStatus"];
            to_status: components["schemas"]["KernelStatus"];
            reason: string | null;
            /** @description The sweep that made the change; null for a change by PUT. */
            sweep_id: string | null;
            /**
             * Format: date-time
             * @example 2026-12-02T06:00:00.000Z
             */
            changed_at: string;
        };
        /** @description Oldest first. */
        KernelHistory: {
            items: components["schemas"]["KernelStatusChange"][];
        };
        KernelPresence: {
            /**
             * Format: uuid
             * @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30
             */
            kernel_id: string;
            /** @description Null: no record. */
            presence: components["schemas"]["HealthCheckStatus"] | null;
            /** @description Seconds since the epoch of the last heartbeat. */
            last_presence: number | null;
        };
        /**
         * @description Derived when read: DECOMMISSIONED until registered again; else ALIVE while reachable; else LOST once unreachable for longer than AGENT_LOST_AFTER_SEC; else UNREACHABLE.
         * @example ALIVE
         * @enum {string}
         */
        AgentStatus: "ALIVE" | "UNREACHABLE" | "LOST" | "DECOMMISSIONED";
        /**
         * @example {
         *       "agent_id": "a1",
         *       "address": "http://127.0.0.1:9101",
         *       "scaling_group": "default",
         *       "status": "ALIVE",
         *       "registered_at": "2026-12-02T05:50:00.000Z",
         *       "last_reached_at": "2026-12-02T05:51:49.760Z",
         *       "unreachable_since": null
         *     }
         */
        Agent: {
            agent_id: components["schemas"]["Name"];
            /** @example http://127.0.0.1:9101 */
            address: string;
            scaling_group: components["schemas"]["Name"];
            status: components["schemas"]["AgentStatus"];
            /**
             * Format: date-time
             * @example 2026-12-02T06:00:00.000Z
             */
            registered_at: string;
            /** @description When a sweep last got an answer from this agent; null if none has. */
            last_reached_at: string | null;
            /** @description Since when every call of the sweeps to this agent failed (refused, timed out, 404, another agent); null while reachable. */
            unreachable_since: string | null;
        };
        AgentList: {
            items: components["schemas"]["Agent"][];
            /** @description Pass back as `cursor` for the next page; null on the last. */
            next_cursor: string | null;
        };
        /**
         * @example {
         *       "address": "http://127.0.0.1:9101",
         *       "scaling_group": "default"
         *     }
         */
        AgentRegistration: {
            /**
             * @description Where the agent answers: stored as its origin, `http(s)://host[:port]`.
             * @example http://127.0.0.1:9101
             */
            address: string;
            scaling_group: components["schemas"]["Name"];
        };
        /**
         * @example {
         *       "kernels": {
         *         "6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30": true
         *       }
         *     }
         */
        PresenceReport: {
            /** @description Kernel id → running (true) or present but unhealthy (false). */
            kernels: {
                [key: string]: boolean;
            };
        };
        /**
         * @example {
         *       "kernels": [
         *         "6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30",
         *         "4bce9f37-30a9-4276-8275-5db1aa6d9ace"
         *       ]
         *     }
         */
        ReconcileRequest: {
            /** @description Every kernel the agent runs now (0 to 10,000). */
            kernels: string[];
        };
        /**
         * @example {
         *       "orphans": [
         *         "4bce9f37-30a9-4276-8275-5db1aa6d9ace"
         *       ],
         *       "missing": []
         *     }
         */
        Reconciliation: {
            /** @description Kernels the agent listed and should stop: unknown to the service, in a final status, or assigned to another agent. In the order listed. */
            orphans: string[];
            /** @description Kernels of this agent in a non-final status that it did not list. In id order. */
            missing: string[];
        };
        /**
         * @example {
         *       "dry_run": true
         *     }
         */
        DecommissionRequest: {
            /**
             * @description Report what would be terminated, change nothing.
             * @default false
             */
            dry_run?: boolean;
            /**
             * @description Bypass the mass-termination guard.
             * @default false
             */
            force?: boolean;
        };
        /**
         * @example kernel.terminated
         * @enum {string}
         */
        EventType: "kernel.terminated" | "sweep.finished" | "agent.decommissioned";
        /** @description The data of a `kernel.terminated` event. */
        KernelTerminatedData: {
            /**
             * Format: uuid
             * @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30
             */
            kernel_id: string;
            /**
             * Format: uuid
             * @example 0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f
             */
            session_id: string;
            scaling_group: components["schemas"]["Name"];
            agent_id: components["schemas"]["Name"] | null;
            from_status: components["schemas"]["KernelStatus"];
            /** @example STALE_KERNEL */
            reason: string;
            /**
             * Format: uuid
             * @description The sweep, as `GET /v1/sweeps/{sweep_id}` reads it back.
             * @example f9764a5e-9a61-443c-9616-13070f961d8b
             */
            sweep_id: string;
            /** @description The kernel's version after the termination. */
            version: number;
        };
        /** @description The data of a `sweep.finished` event: the sweep's counts; read the sweep for its lists. */
        SweepFinishedData: {
            /**
             * Format: uuid
             * @description The sweep, as `GET /v1/sweeps/{sweep_id}` reads it back.
             * @example f9764a5e-9a61-443c-9616-13070f961d8b
             */
            sweep_id: string;
            scaling_group: components["schemas"]["Name"];
            /** @example sweep-stale-kernels */
            handler: string;
            outcome: components["schemas"]["SweepOutcome"];
            dry_run: boolean;
            forced: boolean;
            kernels: number;
            failures: number;
            terminated: number;
            skipped: number;
        };
        /** @description The data of an `agent.decommissioned` event. */
        AgentDecommissionedData: {
            agent_id: components["schemas"]["Name"];
            scaling_group: components["schemas"]["Name"];
            /**
             * Format: uuid
             * @description The sweep, as `GET /v1/sweeps/{sweep_id}` reads it back.
             * @example f9764a5e-9a61-443c-9616-13070f961d8b
             */
            sweep_id: string;
        };
        /**
         * @description One entry of the event log, as a CloudEvents 1.0 event in structured JSON.
         * @example {
         *       "specversion": "1.0",
         *       "id": "42",
         *       "source": "kernel-sweeper",
         *       "type": "kernel.terminated",
         *       "time": "2026-12-02T05:51:49.770Z",
         *       "subject": "4bce9f37-30a9-4276-8275-5db1aa6d9ace",
         *       "datacontenttype": "application/json",
         *       "data": {
         *         "kernel_id": "4bce9f37-30a9-4276-8275-5db1aa6d9ace",
         *         "session_id": "0b6c2f1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f",
         *         "scaling_group": "default",
         *         "agent_id": "a1",
         *         "from_status": "RUNNING",
         *         "reason": "STALE_KERNEL",
         *         "sweep_id": "f9764a5e-9a61-443c-9616-13070f961d8b",
         *         "version": 2
         *       }
         *     }
         */
        CloudEvent: {
            /** @enum {string} */
            specversion: "1.0";
            /**
             * @description Strictly increasing, in commit order: pass the last one read as `after`.
             * @example 42
             */
            id: string;
            /** @enum {string} */
            source: "kernel-sweeper";
            type: components["schemas"]["EventType"];
            /**
             * Format: date-time
             * @example 2026-12-02T06:00:00.000Z
             */
            time: string;
            /** @description What the event is about: the kernel id, the sweep id or the agent id, by type. */
            subject: string;
            /** @enum {string} */
            datacontenttype: "application/json";
            /** @description KernelTerminatedData, SweepFinishedData or AgentDecommissionedData, by `type`. */
            data: components["schemas"]["KernelTerminatedData"] | components["schemas"]["SweepFinishedData"] | components["schemas"]["AgentDecommissionedData"];
        };
        /** @description Oldest first. */
        EventList: {
            items: components["schemas"]["CloudEvent"][];
            /**
             * @description Pass back as `after`: the last item's id, or with no items the `after` given ("0" when none was).
             * @example 42
             */
            next_cursor: string;
        };
        Health: {
            /** @enum {string} */
            status: "ok";
        };
        /**
         * @example {
         *       "status": "ok",
         *       "checks": {
         *         "database": "ok",
         *         "presence": "ok"
         *       },
         *       "locations": {
         *         "database": "PostgreSQL at db:5432/kernels",
         *         "presence": "Valkey master mymaster at 10.0.0.12:6379/2 through sentinels s1:26379,s2:26379,s3:26379"
         *       }
         *     }
         */
        Readiness: {
            /** @enum {string} */
            status: "ok" | "unavailable";
            checks: {
                /** @description "ok", or why not, naming the store and where it is (never credentials). */
                database: string;
                /** @description "ok", or why not, naming the store and where it is (never credentials). */
                presence: string;
            };
            locations: {
                /** @description Where the database is (never credentials). */
                database: string;
                /** @description Where presence is kept; through Sentinel, the master in use (never credentials). */
                presence: string;
            };
        };
        /** @description RFC 9457 problem details: Invalid request: the detail names the field. Nothing was written. */
        BadRequestProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "validation-error" | "malformed-json" | "bad-url" | "bad-request";
            title: string;
            /** @enum {integer} */
            status: 400;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: Missing or wrong bearer token. */
        UnauthorizedProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "unauthorized";
            title: string;
            /** @enum {integer} */
            status: 401;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: An agent's own token on another agent's route: an agent speaks only for itself. */
        ForbiddenProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "forbidden";
            title: string;
            /** @enum {integer} */
            status: 403;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: No such resource. */
        NotFoundProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "not-found";
            title: string;
            /** @enum {integer} */
            status: 404;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: A sweep of this scaling group is already running. */
        LockBusyProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "lock-busy";
            title: string;
            /** @enum {integer} */
            status: 409;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: Events after the cursor were pruned (EVENT_RETENTION_HOURS): read again without `after`, from the oldest kept. */
        CursorExpiredProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "cursor-expired";
            title: string;
            /** @enum {integer} */
            status: 410;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: The kernel is missing or not at the version the request expects: nothing was written. */
        PreconditionFailedProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "precondition-failed";
            title: string;
            /** @enum {integer} */
            status: 412;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: Request body too large. */
        BodyTooLargeProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "body-too-large";
            title: string;
            /** @enum {integer} */
            status: 413;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: A path parameter is longer than any valid value. */
        UriTooLongProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "uri-too-long";
            title: string;
            /** @enum {integer} */
            status: 414;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: The body is not application/json. */
        UnsupportedMediaTypeProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "unsupported-media-type";
            title: string;
            /** @enum {integer} */
            status: 415;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: A fault of the service; its logs say more. */
        InternalErrorProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "internal-error";
            title: string;
            /** @enum {integer} */
            status: 500;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
        /** @description RFC 9457 problem details: A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
        UnavailableProblem: {
            /**
             * @description The stable kind of the error.
             * @enum {string}
             */
            type: "presence-unavailable" | "database-unavailable" | "lock-expired" | "shutting-down";
            title: string;
            /** @enum {integer} */
            status: 503;
            detail: string;
            /**
             * Format: uuid
             * @description A failed sweep, recorded under this id.
             */
            sweep_id?: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Both stores answer. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description A store does not answer; its check says why. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Prometheus text exposition format. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
        };
    };
    createSweep: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                scaling_group: components["schemas"]["Name"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["SweepRequest"];
            };
        };
        responses: {
            /** @description The recorded sweep. */
            201: {
                headers: {
                    /** @description Where the sweep can be read back: `/v1/sweeps/{sweep_id}`. */
                    location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Sweep"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description A sweep of this scaling group is already running. */
            409: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["LockBusyProblem"];
                };
            };
            /** @description Request body too large. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BodyTooLargeProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description The body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnsupportedMediaTypeProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    getSweep: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example f9764a5e-9a61-443c-9616-13070f961d8b */
                sweep_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The sweep. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Sweep"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description No such resource. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["NotFoundProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    listSweeps: {
        parameters: {
            query?: {
                scaling_group?: components["schemas"]["Name"];
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The sweeps. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SweepList"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    getKernel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30 */
                kernel_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The kernel. */
            200: {
                headers: {
                    /** @description The kernel's version, quoted: `"3"`. */
                    etag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Kernel"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description No such resource. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["NotFoundProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    upsertKernel: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Apply only while the kernel exists at one of these versions (its ETag, e.g. `"3"`), or at all with `*`; otherwise 412.
                 * @example "3"
                 */
                "if-match"?: string;
            };
            path: {
                /** @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30 */
                kernel_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["KernelUpsert"];
            };
        };
        responses: {
            /** @description The kernel. */
            200: {
                headers: {
                    /** @description The kernel's version, quoted: `"3"`. */
                    etag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Kernel"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description The kernel is missing or not at the version the request expects: nothing was written. */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["PreconditionFailedProblem"];
                };
            };
            /** @description Request body too large. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BodyTooLargeProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description The body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnsupportedMediaTypeProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    listKernels: {
        parameters: {
            query?: {
                scaling_group?: components["schemas"]["Name"];
                status?: components["schemas"]["KernelStatus"];
                agent_id?: components["schemas"]["Name"];
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of kernels. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KernelList"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    upsertKernels: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["KernelBulkUpsert"];
            };
        };
        responses: {
            /** @description How many were written. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KernelBulkUpsertResult"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description The kernel is missing or not at the version the request expects: nothing was written. */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["PreconditionFailedProblem"];
                };
            };
            /** @description Request body too large. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BodyTooLargeProblem"];
                };
            };
            /** @description The body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnsupportedMediaTypeProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    getKernelHistory: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30 */
                kernel_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The status changes. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KernelHistory"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description No such resource. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["NotFoundProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    getKernelPresence: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 6f1c7a52-3b7e-4d0b-9c61-2e8f4a1b9d30 */
                kernel_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The presence. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KernelPresence"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description No such resource. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["NotFoundProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    getAgent: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example a1 */
                agent_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The agent. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Agent"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description No such resource. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["NotFoundProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    registerAgent: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example a1 */
                agent_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AgentRegistration"];
            };
        };
        responses: {
            /** @description The agent as registered. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Agent"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description Request body too large. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BodyTooLargeProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description The body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnsupportedMediaTypeProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    listAgents: {
        parameters: {
            query?: {
                scaling_group?: components["schemas"]["Name"];
                status?: components["schemas"]["AgentStatus"];
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of agents. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AgentList"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    reportPresence: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example a1 */
                agent_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PresenceReport"];
            };
        };
        responses: {
            /** @description Written. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description An agent's own token on another agent's route: an agent speaks only for itself. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ForbiddenProblem"];
                };
            };
            /** @description Request body too large. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BodyTooLargeProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description The body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnsupportedMediaTypeProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    reconcileAgent: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example a1 */
                agent_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReconcileRequest"];
            };
        };
        responses: {
            /** @description What the agent should stop, and what it should run but does not. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Reconciliation"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description An agent's own token on another agent's route: an agent speaks only for itself. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ForbiddenProblem"];
                };
            };
            /** @description No such resource. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["NotFoundProblem"];
                };
            };
            /** @description Request body too large. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BodyTooLargeProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description The body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnsupportedMediaTypeProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    decommissionAgent: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example a1 */
                agent_id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["DecommissionRequest"];
            };
        };
        responses: {
            /** @description The recorded sweep. */
            201: {
                headers: {
                    /** @description Where the sweep can be read back: `/v1/sweeps/{sweep_id}`. */
                    location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Sweep"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description No such resource. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["NotFoundProblem"];
                };
            };
            /** @description A sweep of this scaling group is already running. */
            409: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "retry-after"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["LockBusyProblem"];
                };
            };
            /** @description Request body too large. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BodyTooLargeProblem"];
                };
            };
            /** @description A path parameter is longer than any valid value. */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UriTooLongProblem"];
                };
            };
            /** @description The body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnsupportedMediaTypeProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    listEvents: {
        parameters: {
            query?: {
                /**
                 * @description The last event id the client has ("0": before the first).
                 * @example 42
                 */
                after?: string;
                /**
                 * @description Only events of these types, comma-separated: kernel.terminated, sweep.finished, agent.decommissioned.
                 * @example kernel.terminated,agent.decommissioned
                 */
                types?: string;
                limit?: number;
                /** @description How long to wait for an event when there is none yet. */
                wait_sec?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of events, maybe empty. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EventList"];
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description Events after the cursor were pruned (EVENT_RETENTION_HOURS): read again without `after`, from the oldest kept. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["CursorExpiredProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
    streamEvents: {
        parameters: {
            query?: {
                /**
                 * @description The last event id the client has ("0": before the first).
                 * @example 42
                 */
                after?: string;
                /**
                 * @description Only events of these types, comma-separated: kernel.terminated, sweep.finished, agent.decommissioned.
                 * @example kernel.terminated,agent.decommissioned
                 */
                types?: string;
            };
            header?: {
                /**
                 * @description The last event id the client has; wins over `after`.
                 * @example 42
                 */
                "last-event-id"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The stream: it ends only when the client leaves or the service shuts down. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description Invalid request: the detail names the field. Nothing was written. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["BadRequestProblem"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnauthorizedProblem"];
                };
            };
            /** @description Events after the cursor were pruned (EVENT_RETENTION_HOURS): read again without `after`, from the oldest kept. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["CursorExpiredProblem"];
                };
            };
            /** @description A fault of the service; its logs say more. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["InternalErrorProblem"];
                };
            };
            /** @description A store is unavailable, the sweep outlived its lock, or the service is shutting down: nothing was terminated. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["UnavailableProblem"];
                };
            };
        };
    };
}
