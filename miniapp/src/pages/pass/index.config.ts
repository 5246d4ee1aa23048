export default definePageConfig({ navigationBarTitleText: '乘车凭证' });
