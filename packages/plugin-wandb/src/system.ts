import { cpus, totalmem, freemem } from 'node:os';

const MB = 1024 * 1024;

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/**
 * System metrics under the names the SDK's system monitor gives them
 * (core/internal/monitor/system.go), so W&B's System tab charts them: CPU use
 * of the machine since the previous sample, memory in use, and this process's
 * resident memory.
 */
export class SystemSampler {
  private last: CpuTimes = cpuTimes();

  sample(): Record<string, number> {
    const now = cpuTimes();
    const total = now.total - this.last.total;
    const busy = now.busy - this.last.busy;
    this.last = now;
    const rss = process.memoryUsage.rss();
    const memory = totalmem();
    return {
      ...(total > 0 ? { 'system.cpu': (100 * busy) / total } : {}),
      'system.memory_percent': (100 * (memory - freemem())) / memory,
      'system.proc.memory.rssMB': rss / MB,
      'system.proc.memory.percent': (100 * rss) / memory,
      'system.proc.memory.availableMB': freemem() / MB,
    };
  }
}
