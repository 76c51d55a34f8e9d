import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createUserSchema, listQuerySchema, setPasswordSchema, updateUserSchema, type Page, type UserDto } from '@strata/contracts';
import { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ApiZodBody, ApiZodQuery } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { UserService } from './user.service';

const idParam = z.object({ id: z.uuid('must be a user id (uuid)') });

/** People's accounts, for admins (an admin person or an admin key). Every change is audited. */
@ApiTags('users')
@ApiBearerAuth()
@Auth('admin')
@Controller('v1/users')
export class UserController {
  constructor(private readonly users: UserService) {}

  @Post()
  @ApiZodBody(createUserSchema)
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<UserDto> {
    return this.users.create(principal, parseOrThrow(createUserSchema, body));
  }

  @Get()
  @ApiZodQuery(listQuerySchema)
  list(@Query() query: unknown): Promise<Page<UserDto>> {
    const { limit, offset } = parseOrThrow(listQuerySchema, query, 'query');
    return this.users.list(limit, offset);
  }

  @Get(':id')
  get(@Param() params: unknown): Promise<UserDto> {
    return this.users.get(parseOrThrow(idParam, params, 'params').id);
  }

  /** `{ "role": … }` and/or `{ "disabled": true|false }`; disabling ends the person's sessions. */
  @Patch(':id')
  @ApiZodBody(updateUserSchema)
  update(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<UserDto> {
    return this.users.update(principal, parseOrThrow(idParam, params, 'params').id, parseOrThrow(updateUserSchema, body));
  }

  /** Sets a new password (a reset); the person's sessions end. */
  @Post(':id/password')
  @HttpCode(200)
  @ApiZodBody(setPasswordSchema)
  setPassword(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<UserDto> {
    return this.users.setPassword(principal, parseOrThrow(idParam, params, 'params').id, parseOrThrow(setPasswordSchema, body).password);
  }
}
