import { Global, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthController } from './auth.controller';
import { SessionService } from './session.service';
import { UserController } from './user.controller';
import { UserService } from './user.service';

/** People: accounts, roles, sessions. Global so the auth guard can check sessions on every route. */
@Global()
@Module({
  imports: [AuditModule],
  controllers: [AuthController, UserController],
  providers: [UserService, SessionService],
  exports: [SessionService],
})
export class UserModule {}
