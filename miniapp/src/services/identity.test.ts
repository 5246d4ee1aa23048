import { describe, expect, it } from 'vitest';
import { identityBody, identityErrors } from './identity';

// The rules themselves (phone, name, ID check character) are tested in shared/src/identity.test.ts.
describe('input checks', () => {
  it('a whole identity: the refused fields, and the body sent', () => {
    expect(identityErrors({ name: '张三丰', phone: '138 1234 5678', idNumber: '' })).toEqual({});
    expect(identityErrors({ name: 'R2D2', phone: '12345', idNumber: '110101199003070001' })).toEqual({
      name: 'confirm.invalidName',
      phone: 'confirm.invalidPhone',
      idNumber: 'confirm.invalidId',
    });
    expect(identityBody({ name: ' 张三丰 ', phone: '+86 138-1234-5678', idNumber: ' ' })).toEqual({
      name: '张三丰',
      phone: '13812345678',
    });
    expect(identityBody({ name: '张三丰', phone: '13812345678', idNumber: '11010119900307002x ' })).toEqual({
      name: '张三丰',
      phone: '13812345678',
      idNumber: '11010119900307002X',
    });
  });

  it("applies the server's rules from shared/ (a copy here had drifted from them)", () => {
    expect(
      identityErrors({ name: '阿卜杜·热合曼', phone: '13812345678', idNumber: '11010119900307002X' }),
    ).toEqual({});
    expect(identityErrors({ name: '阿卜杜•热合曼', phone: '13812345678', idNumber: '' })).toEqual({
      name: 'confirm.invalidName',
    });
    expect(identityErrors({ name: '张三１', phone: '13812345678', idNumber: '' })).toEqual({
      name: 'confirm.invalidName',
    });
    expect(identityErrors({ name: '𠀀'.repeat(21), phone: '13812345678', idNumber: '' })).toEqual({});
    expect(identityErrors({ name: '张三', phone: '13812345678', idNumber: '1101011990030700' })).toEqual({
      idNumber: 'confirm.invalidId',
    });
  });
});
