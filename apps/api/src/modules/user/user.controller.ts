import { Controller, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  createUserSchema,
  listQuerySchema,
  setPasswordSchema,
  updateUserSchema,
  userIdParamsSchema,
  type Page,
  type UserDto,
  type UserIdParams,
} from '@strata/contracts';
import type { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody, ZodParams, ZodQuery } from '../../common/http/zod-route';
import { UserService } from './user.service';

/** People's accounts, for admins (an admin person or an admin key). Every change is audited. */
@ApiTags('users')
@ApiBearerAuth()
@Auth('admin')
@Controller('v1/users')
export class UserController {
  constructor(private readonly users: UserService) {}

  @Post()
  create(@CurrentPrincipal() principal: Principal, @ZodBody(createUserSchema) body: z.output<typeof createUserSchema>): Promise<UserDto> {
    return this.users.create(principal, body);
  }

  @Get()
  list(@ZodQuery(listQuerySchema) query: z.output<typeof listQuerySchema>): Promise<Page<UserDto>> {
    return this.users.list(query.limit, query.offset);
  }

  @Get(':id')
  get(@ZodParams(userIdParamsSchema) params: UserIdParams): Promise<UserDto> {
    return this.users.get(params.id);
  }

  /** `{ "role": … }` and/or `{ "disabled": true|false }`; disabling ends the person's sessions. */
  @Patch(':id')
  update(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(userIdParamsSchema) params: UserIdParams,
    @ZodBody(updateUserSchema) body: z.output<typeof updateUserSchema>,
  ): Promise<UserDto> {
    return this.users.update(principal, params.id, body);
  }

  /** Sets a new password (a reset); the person's sessions end. */
  @Post(':id/password')
  @HttpCode(200)
  setPassword(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(userIdParamsSchema) params: UserIdParams,
    @ZodBody(setPasswordSchema) body: z.output<typeof setPasswordSchema>,
  ): Promise<UserDto> {
    return this.users.setPassword(principal, params.id, body.password);
  }
}
