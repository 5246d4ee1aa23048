export default definePageConfig({ navigationBarTitleText: '确认乘车信息' });
