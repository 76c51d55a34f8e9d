import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { keySchema } from '@strata/contracts';
import { z } from 'zod';
import { Auth } from '../../common/guards/auth.decorator';
import { ZodBody } from '../../common/http/zod-route';
import { AnalysisEngineService, type TickReport } from './analysis-engine.service';

/** Body of `POST /v1/analysis/caps`: the experiments whose caps to recompute now (all when omitted). */
const recomputeCapsSchema = z.object({ experiments: z.array(keySchema).min(1).max(200).optional() }).strict();

@ApiTags('analysis')
@ApiBearerAuth()
@Auth('admin')
@Controller('v1/analysis')
export class AnalysisController {
  constructor(private readonly engine: AnalysisEngineService) {}

  /**
   * Recomputes winsorization caps now instead of at the next scheduled time, and the statistics
   * with them; answers once the tick that did it committed.
   */
  @Post('caps')
  @HttpCode(200)
  async recomputeCaps(
    @ZodBody(recomputeCapsSchema, { orEmpty: true }) body: z.output<typeof recomputeCapsSchema>,
  ): Promise<Pick<TickReport, 'changed' | 'dataThrough'>> {
    this.engine.requestCaps(body.experiments);
    const report = await this.engine.tick();
    return { changed: report.changed, dataThrough: report.dataThrough };
  }
}
