import { availableParallelism, totalmem, freemem } from 'node:os';

const MB = 1024 * 1024;

/**
 * System metrics under the names the SDK's system monitor gives them
 * (core/internal/monitor/system.go), so W&B's System tab charts them: this
 * process's CPU use since the previous sample, as a share of the machine's
 * cores; memory in use on the machine; the process's resident memory.
 */
export class SystemSampler {
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();

  sample(): Record<string, number> {
    const cpu = process.cpuUsage();
    const now = performance.now();
    const busyMs = (cpu.user - this.lastCpu.user + cpu.system - this.lastCpu.system) / 1000;
    const wallMs = now - this.lastAt;
    this.lastCpu = cpu;
    this.lastAt = now;
    const rss = process.memoryUsage.rss();
    const memory = totalmem();
    const available = freemem();
    return {
      // the first sample, taken at once, has no interval to measure over
      ...(wallMs >= 100 ? { 'system.cpu': (100 * busyMs) / wallMs / availableParallelism() } : {}),
      'system.memory_percent': (100 * (memory - available)) / memory,
      'system.proc.memory.rssMB': rss / MB,
      'system.proc.memory.percent': (100 * rss) / memory,
      'system.proc.memory.availableMB': available / MB,
    };
  }
}
